#include "rivet/source/postgres/postgres_source.h"

namespace rivet::source::postgres {

Result<std::unique_ptr<Source>> MakePostgresSource(const config::SourceConfig&,
                                                   const ReadOptions&) {
  return Error(ErrorCode::kNotSupported, "source.type: postgres is not supported yet");
}

}  // namespace rivet::source::postgres
