#include "support/test_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace rivet::testing {

bool InCi() {
  auto ci = EnvVar("CI");
  return ci && (*ci == "true" || *ci == "1");
}

std::optional<std::string> EnvVar(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string MakeTempDir(const std::string& prefix) {
  std::filesystem::path base = std::filesystem::temp_directory_path() / "rivet-tests";
  std::filesystem::create_directories(base);
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  return pattern;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string OutputAndStateFiles(const CommandResult& r, const std::string& dir) {
  std::string all = r.out + r.err;
  for (const std::string& name : ListDir(dir)) {
    if (name.rfind(".rivet_state.db", 0) == 0) all += ReadFile(dir + "/" + name);
  }
  return all;
}

CommandResult ReadParquet(const std::string& tools, const std::string& reader,
                          const std::string& file) {
  return RunCommand("node " + ShellQuote(tools + "/read-parquet.mjs") + " " + ShellQuote(reader) +
                    " " + ShellQuote(file));
}

CommandResult DuckDbQuery(const std::string& tools, const std::string& sql) {
  return RunCommand("node " + ShellQuote(tools + "/duckdb-query.mjs") + " " + ShellQuote(sql));
}

Background StartBackground(const std::string& dir, const std::string& tag, const std::string& env,
                           const std::string& command, const std::string& launcher) {
  Background b{dir + "/" + tag};
  std::remove((b.base + ".rc").c_str());
  std::remove((b.base + ".pid").c_str());
  const std::string full = "( " + env + " " + launcher + " sh -c 'echo $$ > " + b.base +
                           ".pid; exec " + command + "' > " + b.base + ".out 2> " + b.base +
                           ".err; echo $? > " + b.base + ".rc ) > /dev/null 2>&1 &";
  EXPECT_EQ(std::system(full.c_str()), 0) << full;
  return b;
}

std::optional<std::string> AwaitLine(const std::string& path, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  do {
    std::string text = ReadFile(path);
    if (!text.empty() && text.back() == '\n') return text.substr(0, text.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (std::chrono::steady_clock::now() < until);
  return std::nullopt;
}

int Background::Pid() const {
  auto pid = AwaitLine(base + ".pid", std::chrono::seconds(5));
  if (!pid) ADD_FAILURE() << base << " did not start: " << Err();
  return pid ? std::stoi(*pid) : -1;
}

int Background::Wait(std::chrono::seconds limit) const {
  auto rc = AwaitLine(base + ".rc", limit);
  if (!rc) ADD_FAILURE() << base << " did not end within " << limit.count() << " s";
  return rc ? std::stoi(*rc) : -1;
}

std::string Background::Out() const { return ReadFile(base + ".out"); }
std::string Background::Err() const { return ReadFile(base + ".err"); }

CommandResult RunCommand(const std::string& command) {
  std::string dir = MakeTempDir("cmd");
  std::string out_path = dir + "/out";
  std::string err_path = dir + "/err";
  std::string full =
      "(" + command + ") >" + ShellQuote(out_path) + " 2>" + ShellQuote(err_path) + " </dev/null";
  int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  std::filesystem::remove_all(dir);
  return result;
}

}  // namespace rivet::testing
