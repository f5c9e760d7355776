// tests/fuzz/plugin_loader_fuzz.cpp: libFuzzer target for the plugin loader
// on damaged shared objects.
//
// The input damages a real plugin (tests/plugins/fixture.c built as
// fixture_good.so): byte 0 picks the damage, the rest says where.
//   even: the file cut short at any length, written to disk and given to
//         plugin::load, which must refuse it with a reason or load it (a cut
//         in the trailing section headers leaves a loadable object) and must
//         never crash: before elf_check existed, dlopen died of SIGBUS on about
//         half of all lengths;
//   odd:  up to 16 bytes overwritten anywhere, or a run of a header field set
//         to extreme values, then the structural check alone
//         (detail::check_shared_object), which must never read outside the
//         bytes and must refuse or accept with a consistent message.
// Damaged files that pass the structural check are not dlopened: a plugin is
// native code, and damage to its code, init arrays or relocation values runs
// when loaded whatever the host checks (see elf_check.hpp).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "tutti/detail/elf_check.hpp"
#include "tutti/plugin_host.hpp"

namespace {

const std::vector<std::uint8_t>& original() {
    static const std::vector<std::uint8_t> bytes = [] {
        std::ifstream in(TUTTI_FIXTURE_GOOD, std::ios::binary);
        std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string why;
        if (b.empty() || tutti::detail::check_shared_object(b, &why) != tutti::status::ok) std::abort();
        return b;
    }();
    return bytes;
}

std::uint32_t u32(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 5) return 0;
    std::vector<std::uint8_t> file = original();
    std::string why;
    if ((data[0] & 1) == 0) {
        file.resize(u32(data + 1) % file.size());
        static const std::string path = "/tmp/tutti-plugin-loader-fuzz-" + std::to_string(::getpid()) + ".so";
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
        }
        std::shared_ptr<tutti::plugin> p;
        const tutti::status s = tutti::plugin::load(path, p, &why);
        if (s == tutti::status::ok ? !p : (p || why.empty())) std::abort();
        ::unlink(path.c_str());
        return 0;
    }
    // Overwrites: records of [offset u32][value], offsets mostly in the first
    // 4 KiB (headers, dynamic section) where the loader looks first.
    for (std::size_t i = 1; i + 5 <= size && i < 1 + 16 * 5; i += 5) {
        const std::uint32_t o = u32(data + i);
        const std::size_t at = (o & 0x80000000u) ? o % file.size() : o % std::min<std::size_t>(4096, file.size());
        file[at] = data[i + 4];
    }
    const tutti::status s = tutti::detail::check_shared_object(file, &why);
    if (s != tutti::status::ok && why.empty()) std::abort();
    return 0;
}
