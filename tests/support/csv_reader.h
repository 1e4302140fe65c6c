// A small RFC 4180 reader for tests: an unquoted empty field is NULL (nullopt), "" is "".
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rivet::testing {

using CsvRow = std::vector<std::optional<std::string>>;

// Parses the whole text; the header is the first row.
std::vector<CsvRow> ParseCsv(const std::string& text);

}  // namespace rivet::testing
