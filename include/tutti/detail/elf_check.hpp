// tutti/detail/elf_check.hpp: structural checks on a shared object before
// dlopen sees it.
//
// Why: the dynamic loader trusts the file. A plugin cut short by an
// interrupted copy makes dlopen map segments past the end of the file and the
// host dies of SIGBUS (measured: about half of all truncation lengths of a
// test plugin); a program header or dynamic entry pointing outside the image
// makes it fault while relocating. plugin::load runs this check first and
// refuses such files with a sentence naming what is wrong.
//
// What it checks (native ELF class, byte order and machine only): the ELF
// header; the program header table, every PT_LOAD segment and PT_DYNAMIC
// inside the file; load segments in ascending, non-overlapping order with
// sane alignment; every address the dynamic section gives (string and symbol
// tables, hash tables, relocation tables, init/fini arrays, version tables)
// inside the loaded image, with its size; every relocation's target inside
// the image; every string-table offset inside the string table.
//
// What it cannot check: a plugin is native code. Corrupted code, symbol
// values, init-array contents or IFUNC resolvers still run when loaded; no
// in-process loader can make damaged code safe. Hosts that load plugins from
// untrusted sources should load them in a separate process.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE
namespace detail {

/// Checks `file` (a whole shared object's bytes) as described above. Returns
/// ok, or malformed / unsupported (another machine, class or byte order) with
/// `*why` set to a sentence such as "truncated: a load segment ends at byte
/// 65304 but the file has 32760 bytes". Reads only inside `file`. [any-thread]
[[nodiscard]] status check_shared_object(std::span<const std::uint8_t> file, std::string* why = nullptr);

}  // namespace detail
TUTTI_END_NAMESPACE
