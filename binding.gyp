{
  "targets": [
    {
      "target_name": "neuroprobe_native",
      "sources": ["native/qgemm.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"]
    }
  ]
}
