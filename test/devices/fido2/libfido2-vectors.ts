/**
 * Answers of real authenticators, from libfido2's own regression tests
 * (github.com/Yubico/libfido2, regress/cred.c and regress/assert.c, BSD-2-Clause;
 * relying party "localhost"). They show that bioseal reads the authenticator
 * data as libfido2 hands it out (a CBOR byte string) and verifies real
 * signatures. Neither answer carries the UV flag (and the assertion not even UP),
 * so bioseal's full checks end in a refusal after the signature verified.
 */
const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export const LIBFIDO2_RP_ID = 'localhost';

/** regress/cred.c: a "packed" credential attested with the "Yubico U2F Test EE" certificate; flags UP|AT. */
export const LIBFIDO2_CREDENTIAL = {
  clientDataHash: hex('f96457e72d97f6bbddd7fb063762ea2620448e697c03f2312f99dcaf3e8a916b'),
  /** As fido_cred_authdata_ptr() gives it: the CBOR byte string (0x58 0xc4 ...). */
  authDataCbor: hex(`58c449960de5880e 8c687434170f6476 605b8fe4aeb9a286 32c7995cf3ba831d 97634100000000f8 a011f38c0a4d1580
    0617111f9edc7d00 4053fbdfaace63de c5fe47e652ebf35d 53a8bf9dd6096b5e 7fe00d5130856ada 687085b0db080b83 2cef44e23688ee76
    906e7b503e9aa0d6 3c34e383e7d1bd9f 25a5010203262001 215820175b27a656 b2260c260c554278 175d4cf8a2fd1bb9 54dfd5ebbf2264f5
    219ac6225820875f 90e6fd71279febe3 0344bc8d49c61c31 3b72aed453b1fe5d e130fc2b1ed2`),
  signature: hex(`304402205492283b 833347566879b20c 8480cc67278bfa48 430d3cb402368797 3edf2f6502201b56 1706e2260f6ae9a9
    709962eb3a041ac4 a70328567ced4708 68736ab6890d`),
  x5c: hex(`308202e23081cb02 0101300d06092a86 4886f70d01010b05 00301d311b301906 0355040313125975 6269636f20553246
    2054657374204341 301e170d31343035 3135313235383534 5a170d3134303631 343132353835345a 301d311b30190603 5504031312597562
    69636f2055324620 5465737420454530 59301306072a8648 ce3d020106082a86 48ce3d0301070342 0004db0adbf521c7 5cce63dca6e1e825
    060d94e62754194f 9d24af261abead99 441f95a371910a3a 20e73e915e13e8be 38057ad57aa37e76 908fafe28a94b630 eb9d300d06092a86
    4886f70d01010b05 0003820201009540 6b50617dad84a3b4 eb880fe3300f2da2 0a00d92504ee72fa 67df58510f0b4702 9c3e41294a93ac29
    85892da47a813228 577101efa8428816 963791d5dfe08fc9 3c8db0cd897082ec 79d3c678732932e5 ab6cbd569fd54591 cec1dd8d64dce99c
    1f5e3cd2af51a582 18afe037e7329e76 0577027be624a031 561bfd19c571d3f0 9ec073054ebc85b8 539eefc5bc9c56a3 bad9276abba97a40
    d7478b55726be3fe 28497124f48ff420 81ea38ff7c0a4fdf 02823981823bca09 ddcaaa0f27f5a483 556c9a399b153a16 63dc5bf9ac5bbcf7
    9fbe0f8aa23c3113 a33248ca5887f87b a0a10a6a6096935f 5d269e631d09ae9a 41e5bd0847fee509 9b20fd12e2e6407f ba4a6133660d0e73
    dbb0d5a29a9a170d 3430856a42469eff 348f5f876c35e7a8 4d35ebc141aa8ad2 da19aa79a25f352c a0fd25d3f79d2518 2dfab4bcbb07343c
    8d81bdf4e937db39 e9d1455b20412f2d 2722dc92748a92d5 83fd09fb139be339 7a6b5cfae6769ee0 e4e3efadbcfd4245 9ad494d17e8da7d8
    05d5d362cf15cf94 7d1f5b5820442090 71be66e99aab7432 70531d69ed8766f4 094fca2530c26379 003cb19b393f00e0 a888ef7a515be7bd
    4964da417b24c371 22fdd1d120b33f97 d397b2aa181c9e03 777b5b7ef9a3a0d6 20812c388f9d25de e9c8f5dd6a479c65 045a56e6c2ebf202
    97e1b9d8e124769f 236239034bc8f734 0749d6e74d9a`),
};

/** regress/assert.c: an ES256 assertion (signature counter 3, no flags) and the credential's public key (x | y). */
export const LIBFIDO2_ASSERTION = {
  publicKeyXY: hex('34eb9977029c3638bbc2aea0a018c664fce84992d7749e0c468c9da6df46f784601e0f8b23854a9aecc1089f30d00dd7767b5548917c4f0f641a1df8be14908a'),
  clientDataHash: hex('ec8d8f78424a2bb78234aaca07a1f656421cb6f6b3008652352da2624abe8976'),
  authDataCbor: hex('582549960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d97630000000003'),
  signature: hex('3046022100f6d1a3d5242bdeeea09089cdf89ebd6b4d5579e4c14227b79b9ba40ae247640e022100e5c9c2834731c726e525b2b439a7fc3d70bee9810d4a62a9ab4a91c07d2d231e'),
};
