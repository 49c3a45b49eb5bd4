/*
 * bioseal_aead: AES-256-GCM over caller-owned buffers, for the STREAM chunk
 * loop of the sealed container (docs/FORMAT.md §4).
 *
 * node:crypto's Cipher.update() allocates a fresh output buffer on every call,
 * which costs more than the cipher itself on large payloads. This binding calls
 * the very same OpenSSL that Node links (its EVP symbols are exported by the
 * node binary) but decrypts and encrypts in place, many chunks per call, with
 * one key schedule per batch. No cryptography is implemented here: every
 * primitive is OpenSSL's EVP_aes_256_gcm (authenticateChunks only XORs two
 * of its tags; see there).
 *
 * Besides processChunks (the batch form both backends share), the parallel
 * open/check loop (src/container/payload-job.ts) uses: readChunks (one
 * vectored positional read per segment, ciphertext to its final place and
 * tags aside), decryptInPlace, authenticateChunks with gcmLengthDelta (check
 * without decrypting), prefault (map a fresh output's pages in one call),
 * wipe (fast zeroing of shared memory) and aliasArrayBuffer (a non-shared
 * view of shared memory, for onnxruntime-node).
 *
 * The nonce of chunk i is the STREAM nonce: an 11-byte big-endian counter
 * followed by one byte that is 0x01 on the last chunk of the payload and 0x00
 * otherwise.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#define BIOSEAL_HAVE_PREADV 1
#endif

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

/*
 * The split layout used when opening: the ciphertext of n consecutive chunks
 * lies contiguously in `data` (chunk i at i*chunkSize, where its plaintext
 * will be), and their tags in `tags` (16 bytes each). Reading the sealed
 * chunks straight into this layout lets the kernel copy the ciphertext into
 * its final place and the decryption run in place, on data still in cache:
 * no scratch copy of the payload is ever made.
 */
static int get_split_args(napi_env env, napi_value *argv, uint64_t *chunk_size, uint64_t *plain_len,
                          uint8_t **data, size_t *data_len, uint8_t **tags, size_t *tags_len, uint64_t *n) {
  if (!get_u64(env, argv[0], chunk_size) || !get_u64(env, argv[1], plain_len) ||
      !get_bytes(env, argv[2], data, data_len) || !get_bytes(env, argv[3], tags, tags_len) ||
      *chunk_size == 0 || *chunk_size > (1u << 30)) {
    return 0;
  }
  *n = *plain_len == 0 ? 1 : (*plain_len + *chunk_size - 1) / *chunk_size;
  return *data_len >= *plain_len && *tags_len >= *n * TAG_LEN;
}

/*
 * readChunks(fd, position, chunkSize, plainLen, data, tags)
 *   Reads the n sealed chunks (ciphertext||tag each) that start at `position`
 *   with positional vectored reads, scattering ciphertext into data and tags
 *   into tags. Throws on a read error, or when the file ends early.
 */
static napi_value read_chunks(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  uint64_t position, chunk_size, plain_len, n;
  uint8_t *data, *tags;
  size_t data_len, tags_len;
  if (argc != 6 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || !get_u64(env, argv[1], &position) ||
      !get_split_args(env, argv + 2, &chunk_size, &plain_len, &data, &data_len, &tags, &tags_len, &n)) {
    napi_throw_type_error(env, NULL, "readChunks: bad arguments");
    return NULL;
  }
#ifdef BIOSEAL_HAVE_PREADV
  enum { MAX_IOV = 512 };
  struct iovec iov[MAX_IOV];
  uint64_t chunk = 0;  /* the chunk being read */
  uint64_t within = 0; /* bytes of it (ciphertext||tag) already read */
  while (chunk < n) {
    int cnt = 0;
    uint64_t c = chunk, w = within;
    while (c < n && cnt < MAX_IOV - 1) {
      uint64_t len = (c == n - 1) ? plain_len - c * chunk_size : chunk_size;
      if (w < len) {
        iov[cnt].iov_base = data + c * chunk_size + w;
        iov[cnt].iov_len = (size_t)(len - w);
        cnt++;
        w = len;
      }
      iov[cnt].iov_base = tags + c * TAG_LEN + (w - len);
      iov[cnt].iov_len = (size_t)(TAG_LEN - (w - len));
      cnt++;
      c++;
      w = 0;
    }
    ssize_t got = preadv(fd, iov, cnt, (off_t)position);
    if (got < 0) {
      if (errno == EINTR) continue;
      char message[96];
      snprintf(message, sizeof message, "read failed: %s", strerror(errno));
      napi_throw_error(env, "E_IO", message);
      return NULL;
    }
    if (got == 0) {
      napi_throw_error(env, "E_IO", "file shrank while it was being read");
      return NULL;
    }
    position += (uint64_t)got;
    /* Advance (chunk, within) by the bytes read. */
    uint64_t left = (uint64_t)got;
    while (left > 0) {
      uint64_t len = (chunk == n - 1) ? plain_len - chunk * chunk_size : chunk_size;
      uint64_t rest = len + TAG_LEN - within;
      if (left >= rest) {
        left -= rest;
        chunk++;
        within = 0;
      } else {
        within += left;
        left = 0;
      }
    }
  }
  return NULL;
#else
  (void)fd;
  napi_throw_error(env, "E_IO", "readChunks: not supported on this platform");
  return NULL;
#endif
}

/*
 * decryptInPlace(key, first, last, chunkSize, plainLen, data, tags)
 *   Authenticates and decrypts, in place, n chunks in the split layout. Same
 *   nonces and result as processChunks: -1 on success, else the
 *   batch-relative index of the first chunk that fails; then all of data's
 *   plainLen bytes are zeroed.
 */
static napi_value decrypt_in_place(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *key, *data, *tags;
  size_t key_len, data_len, tags_len;
  uint64_t first, last, chunk_size, plain_len, n;
  if (argc != 7 || !get_bytes(env, argv[0], &key, &key_len) || key_len != KEY_LEN ||
      !get_u64(env, argv[1], &first) || !get_u64(env, argv[2], &last) ||
      !get_split_args(env, argv + 3, &chunk_size, &plain_len, &data, &data_len, &tags, &tags_len, &n) ||
      first + n - 1 > last) {
    napi_throw_type_error(env, NULL, "decryptInPlace: bad arguments");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int64_t failed = -1;
  int ok = ctx != NULL &&
           EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, 0) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
           EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, 0) == 1;
  uint8_t nonce[NONCE_LEN];
  for (uint64_t i = 0; ok && i < n; i++) {
    uint64_t counter = first + i;
    uint64_t len = (i == n - 1) ? plain_len - i * chunk_size : chunk_size;
    uint8_t *p = data + i * chunk_size;
    int outl = 0, finl = 0;
    stream_nonce(nonce, counter, counter == last);
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tags + i * TAG_LEN) != 1 ||
        (len > 0 && EVP_CipherUpdate(ctx, p, &outl, p, (int)len) != 1)) { ok = 0; break; }
    if (EVP_CipherFinal_ex(ctx, p + len, &finl) != 1) { failed = (int64_t)i; break; }
  }
  if (ctx) EVP_CIPHER_CTX_free(ctx);
  if (!ok || failed >= 0) OPENSSL_cleanse(data, (size_t)plain_len);
  if (!ok) {
    napi_throw_error(env, "E_CRYPTO", "decryptInPlace: OpenSSL failure");
    return NULL;
  }
  napi_value result;
  napi_create_int64(env, failed, &result);
  return result;
}

/*
 * Authenticating without decrypting (for check, which keeps no plaintext).
 *
 * A GCM tag is GHASH_H over the blocks  A || pad || C || pad || L  XORed with
 * E_K(J0), where L = [bitlen A]_64 || [bitlen C]_64 and every block is
 * multiplied by a power of H according to its position; L is the last block,
 * multiplied by H itself. So if OpenSSL is asked for the tag of a message
 * with no plaintext and the chunk's ciphertext C given as associated data,
 * it GHASHes exactly the same blocks in the same positions, except that the
 * length block is L' = [bitlen C]_64 || [0]_64. GHASH is linear, hence
 *
 *     tag(C as ciphertext) = tag(C as associated data) XOR (L XOR L') * H
 *
 * and the correction delta(n) = (L XOR L') * H depends only on the key and
 * the chunk length n. It is obtained from OpenSSL too, without any field
 * arithmetic here: encrypting n zero bytes under some nonce N yields the
 * keystream S and tag T1 = GHASH(S || L) ^ E(J0); the tag of S given as
 * associated data under the same N is T2 = GHASH(S || L') ^ E(J0); so
 * delta(n) = T1 ^ T2. Each chunk then costs only the GHASH pass over its
 * ciphertext (OpenSSL's carry-less-multiply code) instead of AES-CTR plus
 * GHASH, and the tag comparison is constant-time (CRYPTO_memcmp). delta(n)
 * reveals H, so it is secret like the key: callers wipe it.
 */

/* gcmLengthDelta(key, n) -> 16 bytes: delta(n) as above. */
static napi_value gcm_length_delta(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *key;
  size_t key_len;
  uint64_t n;
  if (argc != 2 || !get_bytes(env, argv[0], &key, &key_len) || key_len != KEY_LEN || !get_u64(env, argv[1], &n) || n > (1u << 30)) {
    napi_throw_type_error(env, NULL, "gcmLengthDelta: bad arguments");
    return NULL;
  }
  enum { PIECE = 16384 };
  static const uint8_t zeros[PIECE];
  uint8_t stream[PIECE];
  uint8_t nonce[NONCE_LEN] = {0};
  uint8_t t1[TAG_LEN], t2[TAG_LEN];
  EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX *aad = EVP_CIPHER_CTX_new();
  int outl = 0;
  int ok = enc != NULL && aad != NULL &&
           EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
           EVP_EncryptInit_ex(enc, NULL, NULL, key, nonce) == 1 &&
           EVP_EncryptInit_ex(aad, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(aad, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
           EVP_EncryptInit_ex(aad, NULL, NULL, key, nonce) == 1;
  for (uint64_t done = 0; ok && done < n;) {
    int piece = (int)(n - done < PIECE ? n - done : PIECE);
    ok = EVP_EncryptUpdate(enc, stream, &outl, zeros, piece) == 1 && outl == piece &&
         EVP_EncryptUpdate(aad, NULL, &outl, stream, piece) == 1;
    done += (uint64_t)piece;
  }
  ok = ok && EVP_EncryptFinal_ex(enc, stream, &outl) == 1 && EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, TAG_LEN, t1) == 1 &&
       EVP_EncryptFinal_ex(aad, stream, &outl) == 1 && EVP_CIPHER_CTX_ctrl(aad, EVP_CTRL_GCM_GET_TAG, TAG_LEN, t2) == 1;
  if (enc) EVP_CIPHER_CTX_free(enc);
  if (aad) EVP_CIPHER_CTX_free(aad);
  OPENSSL_cleanse(stream, sizeof stream);
  if (!ok) {
    OPENSSL_cleanse(t1, sizeof t1);
    OPENSSL_cleanse(t2, sizeof t2);
    napi_throw_error(env, "E_CRYPTO", "gcmLengthDelta: OpenSSL failure");
    return NULL;
  }
  napi_value ab, result;
  void *out;
  if (napi_create_arraybuffer(env, TAG_LEN, &out, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, TAG_LEN, ab, 0, &result) != napi_ok) {
    OPENSSL_cleanse(t1, sizeof t1);
    OPENSSL_cleanse(t2, sizeof t2);
    return NULL;
  }
  for (int i = 0; i < TAG_LEN; i++) ((uint8_t *)out)[i] = t1[i] ^ t2[i];
  OPENSSL_cleanse(t1, sizeof t1);
  OPENSSL_cleanse(t2, sizeof t2);
  return result;
}

/*
 * authenticateChunks(key, first, last, chunkSize, plainLen, data, tags, deltaFull, deltaShort)
 *   Verifies the tags of n chunks in the split layout without decrypting
 *   them (data is left as it is). deltaFull is delta(chunkSize), deltaShort
 *   delta of the one shorter chunk a payload may end with. Same result as
 *   decryptInPlace: -1, or the batch-relative index of the first chunk whose
 *   tag does not verify.
 */
static napi_value authenticate_chunks(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *key, *data, *tags, *delta_full, *delta_short;
  size_t key_len, data_len, tags_len, full_len, short_len;
  uint64_t first, last, chunk_size, plain_len, n;
  if (argc != 9 || !get_bytes(env, argv[0], &key, &key_len) || key_len != KEY_LEN ||
      !get_u64(env, argv[1], &first) || !get_u64(env, argv[2], &last) ||
      !get_split_args(env, argv + 3, &chunk_size, &plain_len, &data, &data_len, &tags, &tags_len, &n) ||
      !get_bytes(env, argv[7], &delta_full, &full_len) || full_len != TAG_LEN ||
      !get_bytes(env, argv[8], &delta_short, &short_len) || short_len != TAG_LEN ||
      first + n - 1 > last) {
    napi_throw_type_error(env, NULL, "authenticateChunks: bad arguments");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int64_t failed = -1;
  int ok = ctx != NULL &&
           EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
           EVP_EncryptInit_ex(ctx, NULL, NULL, key, NULL) == 1;
  uint8_t nonce[NONCE_LEN], tag[TAG_LEN];
  for (uint64_t i = 0; ok && i < n; i++) {
    uint64_t counter = first + i;
    uint64_t len = (i == n - 1) ? plain_len - i * chunk_size : chunk_size;
    const uint8_t *delta = len == chunk_size ? delta_full : delta_short;
    int outl = 0;
    stream_nonce(nonce, counter, counter == last);
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
        (len > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, data + i * chunk_size, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, tag, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) { ok = 0; break; }
    for (int b = 0; b < TAG_LEN; b++) tag[b] ^= delta[b];
    if (CRYPTO_memcmp(tag, tags + i * TAG_LEN, TAG_LEN) != 0) { failed = (int64_t)i; break; }
  }
  OPENSSL_cleanse(tag, sizeof tag);
  if (ctx) EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    napi_throw_error(env, "E_CRYPTO", "authenticateChunks: OpenSSL failure");
    return NULL;
  }
  napi_value result;
  napi_create_int64(env, failed, &result);
  return result;
}

/*
 * prefault(bytes)
 *   Maps in the pages under bytes, writable, with one madvise
 *   (MADV_POPULATE_WRITE, Linux 5.14+) instead of one page fault per 4 KiB
 *   when they are first written: for the fresh output of an open, whose page
 *   faults cost more than decrypting it. The contents are not touched. Only
 *   advice: returns whether the kernel did it.
 */
static napi_value prefault(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *data;
  size_t len;
  bool done = false;
  if (argc != 1 || !get_bytes(env, argv[0], &data, &len)) {
    napi_throw_type_error(env, NULL, "prefault: bad arguments");
    return NULL;
  }
#if defined(MADV_POPULATE_WRITE)
  if (len > 0) {
    /* Whole pages around the view: they belong to the same mapping. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)data & ~(page - 1);
    uintptr_t end = ((uintptr_t)data + len + page - 1) & ~(page - 1);
    done = madvise((void *)start, end - start, MADV_POPULATE_WRITE) == 0;
  }
#endif
  napi_value result;
  napi_get_boolean(env, done, &result);
  return result;
}

/*
 * wipe(bytes)
 *   Zeroes bytes with explicit_bzero (glibc's memset that is never optimised
 *   away), else OPENSSL_cleanse. For plaintext in a SharedArrayBuffer, where
 *   TypedArray.prototype.fill stores element by element (shared memory
 *   semantics) and runs ten times slower.
 */
static napi_value wipe_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *data;
  size_t len;
  if (argc != 1 || !get_bytes(env, argv[0], &data, &len)) {
    napi_throw_type_error(env, NULL, "wipe: bad arguments");
    return NULL;
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
  if (len > 0) explicit_bzero(data, len);
#else
  if (len > 0) OPENSSL_cleanse(data, len);
#endif
  return NULL;
}

static void release_alias(napi_env env, void *data, void *hint) {
  (void)data;
  napi_delete_reference(env, (napi_ref)hint);
}

/*
 * aliasArrayBuffer(bytes)
 *   A plain (non-shared) ArrayBuffer over the same memory as `bytes` (which
 *   may live in a SharedArrayBuffer): no copy. It holds a reference to
 *   `bytes`, dropped only when the alias's memory is released, so the
 *   memory outlives every view of the alias. For consumers that accept only
 *   ArrayBuffer, such as onnxruntime-node. Returns undefined when this
 *   runtime does not allow external buffers.
 */
static napi_value alias_array_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *data;
  size_t len;
  if (argc != 1 || !get_bytes(env, argv[0], &data, &len)) {
    napi_throw_type_error(env, NULL, "aliasArrayBuffer: bad arguments");
    return NULL;
  }
  napi_value undefined, result;
  napi_get_undefined(env, &undefined);
  if (len == 0) return undefined;
  napi_ref ref;
  if (napi_create_reference(env, argv[0], 1, &ref) != napi_ok) return undefined;
  if (napi_create_external_arraybuffer(env, data, len, release_alias, ref, &result) != napi_ok) {
    napi_delete_reference(env, ref);
    /* Clear a pending exception (none is expected) and report "not possible". */
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return undefined;
  }
  return result;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {
      {"processChunks", process_chunks},
      {"readChunks", read_chunks},
      {"decryptInPlace", decrypt_in_place},
      {"gcmLengthDelta", gcm_length_delta},
      {"authenticateChunks", authenticate_chunks},
      {"prefault", prefault},
      {"aliasArrayBuffer", alias_array_buffer},
      {"wipe", wipe_bytes},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
  /* Whether readChunks works here; without it the loop uses processChunks only. */
  napi_value split;
#ifdef BIOSEAL_HAVE_PREADV
  napi_get_boolean(env, true, &split);
#else
  napi_get_boolean(env, false, &split);
#endif
  napi_set_named_property(env, exports, "splitRead", split);
  return exports;
}
