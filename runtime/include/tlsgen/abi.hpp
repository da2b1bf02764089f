// tlsgen runtime ABI version.
//
// Generated glue (tlsgen_glue.cpp) checks this number with #error, the way nanopb's
// PB_PROTO_HEADER_VERSION ties generated code to its runtime: bump it whenever a
// declaration the glue uses (Heap, vsnprintf, the glue entry points) changes shape.
#pragma once

#define TLSGEN_RUNTIME_ABI 1
