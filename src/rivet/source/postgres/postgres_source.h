// PostgreSQL source (libpq, binary COPY).
#pragma once

#include <memory>

#include "rivet/source/source.h"

namespace rivet::source::postgres {

Result<std::unique_ptr<Source>> MakePostgresSource(const config::SourceConfig& config,
                                                   const ReadOptions& options);

}  // namespace rivet::source::postgres
