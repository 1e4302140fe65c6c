# rivet_cli_state: the `rivet metrics` and `rivet state ...` commands, linked into the rivet
# binary. Included from src/rivet/state/CMakeLists.txt (whose tests render these commands) and
# safe to include again from src/rivet/cli/CMakeLists.txt.
include_guard(GLOBAL)
rivet_module(rivet_cli_state
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_commands.cc
  DEPS rivet_state rivet_config rivet_common fmt::fmt)
