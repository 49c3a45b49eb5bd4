{
  "targets": [
    {
      "target_name": "bioseal_aead",
      "sources": ["aead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
