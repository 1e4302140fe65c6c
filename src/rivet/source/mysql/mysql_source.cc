#include "rivet/source/mysql/mysql_source.h"

namespace rivet::source::mysql {

Result<std::unique_ptr<Source>> MakeMysqlSource(const config::SourceConfig&,
                                                   const ReadOptions&) {
  return Error(ErrorCode::kNotSupported, "source.type: mysql is not supported yet");
}

}  // namespace rivet::source::mysql
