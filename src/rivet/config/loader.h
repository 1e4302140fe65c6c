// Loading and validating a rivet YAML config (reference §1 rules).
//
// Every error is ErrorCode::kConfig and names the file, the export (when inside one) and the key,
// and says how to fix it, e.g.
//   rivet.yaml: exports[0] 'orders': unknown key 'cursor_colum' (did you mean 'cursor_column'?)
//   (line 7)
// Secret values (passwords, URLs, access keys, webhook URLs) never appear in an error or warning;
// a value quoted back is shortened and masked (see Loader::Echo in loader.cc).
//
// Decisions beyond the reference, made for the user's safety:
// - A key that belongs to another mode or destination type (cursor_column with mode: full, bucket
//   on a local destination, chunk_max_attempts without chunk_checkpoint: true) is an error, not
//   silently ignored: the usual cause is a forgotten `mode:` or `type:` line.
// - query_file must be relative to the config's folder: '..' components and absolute paths are
//   refused. Queries lose surrounding blanks and trailing ';' (the modes wrap them in a SELECT).
// - ${KEY} substitution is one pass: a substituted value is never scanned again.
// - A URL with a password in the file warns like `password:` does (once per config).
// - CSV exports get Compression::kNone; compression/compression_level with format: csv are errors.
// - An s3/gcs prefix loses leading '/' and gains a trailing '/'.
// - notifications.slack.on defaults to [failure].
// - Numbers must be written unquoted; booleans are true/false.
// - source.tls follows the rules of tls.h. Its files are resolved against the config's folder
//   (absolute paths allowed, unlike query_file: a CA bundle lives in /etc) and must exist,
//   except for the commands that only read the state DB. With url/url_env the URL's own TLS
//   parameters are not known yet: the source combines them (tls.h CombineTls) before it
//   connects, and a verify mode may take its CA from there.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::config {

// Looks up an environment variable; nullopt when unset. Tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct LoadOptions {
  std::map<std::string, std::string> params;  // --param KEY=VALUE (wins over the environment)
  EnvLookup env = ProcessEnv();
  // false: a `*_env` variable that is unset leaves its secret empty instead of failing. For the
  // commands that only read the state DB (`rivet metrics`, `rivet state ...`), which must work
  // where the database credentials are not exported.
  bool require_secrets = true;
};

struct Loaded {
  Config config;
  std::vector<std::string> warnings;  // unused --param, password in the file, ...
};

// Reads and validates the file at `path`.
Result<Loaded> LoadConfigFile(const std::string& path, const LoadOptions& options);
// Same, from text; `path` is used for messages and as the base of relative paths.
Result<Loaded> LoadConfigText(std::string_view yaml, const std::string& path,
                              const LoadOptions& options);

}  // namespace rivet::config
