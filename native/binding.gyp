{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")"
  },
  "targets": [
    {
      "target_name": "revertlm_torch",
      "sources": [
        "src/addon.cc",
        "src/handle.cc",
        "src/creation.cc",
        "src/shape_ops.cc",
        "src/math_ops.cc",
        "src/nn_ops.cc",
        "src/small_attention.cc",
        "src/autograd_ops.cc",
        "src/optim_ops.cc",
        "src/runtime.cc",
        "src/generator.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_EXPERIMENTAL", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-fno-math-errno", "-fopenmp-simd", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "conditions": [
        ["libtorch!=''", {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10", "-ldl"]
        }, {
          "include_dirs": ["/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10", "-ldl"]
        }]
      ]
    }
  ]
}
