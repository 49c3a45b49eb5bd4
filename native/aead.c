/*
 * bioseal_aead: AES-256-GCM over caller-owned buffers, for the STREAM chunk
 * loop of the sealed container (docs/FORMAT.md §4).
 *
 * node:crypto's Cipher.update() allocates a fresh output buffer on every call,
 * which costs more than the cipher itself on large payloads. This binding calls
 * the very same OpenSSL that Node links (its EVP symbols are exported by the
 * node binary) but decrypts and encrypts in place, many chunks per call, with
 * one key schedule per batch. No cryptography is implemented here: every
 * primitive is OpenSSL's EVP_aes_256_gcm.
 *
 * The nonce of chunk i is the STREAM nonce: an 11-byte big-endian counter
 * followed by one byte that is 0x01 on the last chunk of the payload and 0x00
 * otherwise.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <string.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16

static void stream_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter, int last) {
  memset(nonce, 0, NONCE_LEN);
  for (int i = 0; i < 8; i++) nonce[10 - i] = (uint8_t)(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
}

static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static int get_u64(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) return 0;
  *out = (uint64_t)d;
  return 1;
}

/*
 * processChunks(encrypt, key, firstCounter, lastCounter, chunkSize, plainLen, src, dst)
 *   src holds n consecutive chunks. Decrypting, each chunk is ciphertext||tag
 *   and its plaintext goes to dst at chunk*chunkSize; encrypting, src holds
 *   plaintext and dst receives ciphertext||tag per chunk. plainLen is the
 *   number of plaintext bytes covered by the batch. lastCounter is the index
 *   of the payload's final chunk (its nonce carries the last-chunk flag).
 *   Returns -1 on success, or the batch-relative index of the first chunk whose
 *   tag does not verify (its output region is zeroed; so is everything after).
 */
static napi_value process_chunks(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 8) { napi_throw_type_error(env, NULL, "processChunks: 8 arguments"); return NULL; }
  bool encrypt;
  uint8_t *key, *src, *dst;
  size_t key_len, src_len, dst_len;
  uint64_t first, last, chunk_size, plain_len;
  if (napi_get_value_bool(env, argv[0], &encrypt) != napi_ok ||
      !get_bytes(env, argv[1], &key, &key_len) || key_len != KEY_LEN ||
      !get_u64(env, argv[2], &first) || !get_u64(env, argv[3], &last) ||
      !get_u64(env, argv[4], &chunk_size) || !get_u64(env, argv[5], &plain_len) ||
      !get_bytes(env, argv[6], &src, &src_len) || !get_bytes(env, argv[7], &dst, &dst_len) ||
      chunk_size == 0 || chunk_size > (1u << 30)) {
    napi_throw_type_error(env, NULL, "processChunks: bad arguments");
    return NULL;
  }
  uint64_t n = plain_len == 0 ? 1 : (plain_len + chunk_size - 1) / chunk_size;
  uint64_t sealed_len = plain_len + n * TAG_LEN;
  if (first + n - 1 > last || (encrypt ? (src_len < plain_len || dst_len < sealed_len)
                                      : (src_len < sealed_len || dst_len < plain_len))) {
    napi_throw_range_error(env, NULL, "processChunks: buffer sizes do not match the batch");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int64_t failed = -1;
  int ok = ctx != NULL &&
           EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
           EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, -1) == 1;
  uint8_t nonce[NONCE_LEN];
  for (uint64_t i = 0; ok && i < n; i++) {
    uint64_t counter = first + i;
    uint64_t len = (i == n - 1) ? plain_len - i * chunk_size : chunk_size;
    uint8_t *p = encrypt ? src + i * chunk_size : dst + i * chunk_size;
    uint8_t *c = encrypt ? dst + i * (chunk_size + TAG_LEN) : src + i * (chunk_size + TAG_LEN);
    int outl = 0, finl = 0;
    stream_nonce(nonce, counter, counter == last);
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) != 1) { ok = 0; break; }
    if (encrypt) {
      if ((len > 0 && EVP_CipherUpdate(ctx, c, &outl, p, (int)len) != 1) ||
          EVP_CipherFinal_ex(ctx, c + len, &finl) != 1 ||
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, c + len) != 1) { ok = 0; break; }
    } else {
      if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, c + len) != 1 ||
          (len > 0 && EVP_CipherUpdate(ctx, p, &outl, c, (int)len) != 1)) { ok = 0; break; }
      if (EVP_CipherFinal_ex(ctx, p + len, &finl) != 1) { failed = (int64_t)i; break; }
    }
  }
  if (ctx) EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    if (!encrypt) OPENSSL_cleanse(dst, (size_t)plain_len);
    napi_throw_error(env, "E_CRYPTO", "processChunks: OpenSSL failure");
    return NULL;
  }
  if (failed >= 0) {
    /* Never hand back plaintext from a batch that holds a forged chunk. */
    OPENSSL_cleanse(dst, (size_t)plain_len);
  }
  napi_value result;
  napi_create_int64(env, failed, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "processChunks", NAPI_AUTO_LENGTH, process_chunks, NULL, &fn);
  napi_set_named_property(env, exports, "processChunks", fn);
  return exports;
}
