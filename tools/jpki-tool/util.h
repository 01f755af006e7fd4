// SPDX-License-Identifier: MIT
// Small file and text helpers.
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "jpki/bytes.h"

namespace jpki::tool {

// Whole-file I/O; errors are ToolError(Exit::Error) naming the file. "-" means stdin / stdout.
Bytes readFileBytes(const std::string& path);
void writeFileBytes(const std::string& path, ByteView data);
std::optional<std::string> readTextIfExists(const std::filesystem::path& path);

std::filesystem::path homeDir();  // $HOME, else the passwd entry
std::string trim(const std::string& s);
std::string lower(std::string s);

// "YYYY-MM-DD" of a time in Japan Standard Time (UTC+9, no DST): the dates on the card and in the
// municipal guidance are Japanese dates.
std::string jstDate(std::time_t t);

}  // namespace jpki::tool
