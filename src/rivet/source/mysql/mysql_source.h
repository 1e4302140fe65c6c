// MySQL and MariaDB source (MariaDB Connector/C, streamed results).
#pragma once

#include <memory>

#include "rivet/source/source.h"

namespace rivet::source::mysql {

Result<std::unique_ptr<Source>> MakeMysqlSource(const config::SourceConfig& config,
                                                   const ReadOptions& options);

}  // namespace rivet::source::mysql
