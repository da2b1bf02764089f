"""tlsgen: a reviewed YAML device profile in, an mbedTLS 3.6 config, a computed heap and C++ glue out."""

__version__ = "0.1.0"

#: The mbedTLS release the generated configuration targets (the build pins its source by SHA-256).
MBEDTLS_VERSION = "3.6.6"

#: Must equal TLSGEN_RUNTIME_ABI in runtime/include/tlsgen/abi.hpp; the glue checks it with #error.
RUNTIME_ABI = 1
