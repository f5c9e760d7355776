// tutti/config.hpp: version numbers and the inline ABI namespace.
//
// Every public C++ declaration lives in `tutti::TUTTI_ABI_NAMESPACE`, an inline
// namespace: code says `tutti::accumulate`, the linker sees `tutti::v0::...`, so
// two incompatible builds of tutti in one process fail to link instead of
// silently mixing layouts.
#pragma once

// include/tutti/tutti.h (the C ABI) repeats these four macros; change both
// (lib/c_api.cpp includes both: a mismatch is a macro-redefinition warning, an
// error with TUTTI_WERROR as in CI).
#define TUTTI_VERSION_MAJOR 0
#define TUTTI_VERSION_MINOR 1
#define TUTTI_VERSION_PATCH 0
/// major * 10000 + minor * 100 + patch, for `#if TUTTI_VERSION >= ...`.
#define TUTTI_VERSION (TUTTI_VERSION_MAJOR * 10000 + TUTTI_VERSION_MINOR * 100 + TUTTI_VERSION_PATCH)

#define TUTTI_ABI_NAMESPACE v0
#define TUTTI_BEGIN_NAMESPACE \
    namespace tutti {         \
    inline namespace TUTTI_ABI_NAMESPACE {
#define TUTTI_END_NAMESPACE \
    }                       \
    }
