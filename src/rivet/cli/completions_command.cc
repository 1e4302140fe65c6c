#include <cstdio>
#include <string>

#include "rivet/cli/commands.h"

namespace rivet::cli {

namespace {

constexpr const char* kBash = R"(# bash completion for rivet
_rivet() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="run check doctor state metrics snapshot completions"
  case "$prev" in
    -c|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    completions) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
    state) COMPREPLY=($(compgen -W "show files reset chunks reset-chunks migrate" -- "$cur")); return ;;
    snapshot) COMPREPLY=($(compgen -W "hold" -- "$cur")); return ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case "${COMP_WORDS[1]}" in
    run) COMPREPLY=($(compgen -W "-c --config -e --export --validate --resume --shard --worker --lease-seconds --snapshot --parallel-exports --parallel-export-processes -p --param --help" -- "$cur")) ;;
    check) COMPREPLY=($(compgen -W "-c --config -e --export -p --param --json --help" -- "$cur")) ;;
    doctor) COMPREPLY=($(compgen -W "-c --config --json --help" -- "$cur")) ;;
    state|metrics) COMPREPLY=($(compgen -W "-c --config -e --export -l --last --help" -- "$cur")) ;;
    snapshot) COMPREPLY=($(compgen -W "-c --config -p --param --for --id-file --help" -- "$cur")) ;;
  esac
}
complete -F _rivet rivet
)";

constexpr const char* kZsh = R"(#compdef rivet
_rivet() {
  local -a commands
  commands=(
    'run:run exports'
    'check:judge how hard each export hits the source'
    'doctor:verify the source and destination credentials'
    'state:show or reset export state'
    'metrics:show run history'
    'snapshot:hold one PostgreSQL snapshot for several runs'
    'completions:print a shell completion script'
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    _arguments '--help[show help]' '--version[show version]'
    return
  fi
  case "$words[2]" in
    run)
      _arguments '(-c --config)'{-c,--config}'[config file]:file:_files' \
        '(-e --export)'{-e,--export}'[export name]:name:' '--validate[read files back]' \
        '--resume[resume a checkpointed run]' '--shard[I/N chunks of a chunked export]:shard:' \
        '--worker[claim chunks of the shared plan]' '--lease-seconds[claim lease]:seconds:' \
        '--snapshot[held PostgreSQL snapshot]:id:' \
        '--parallel-exports[threads]' \
        '--parallel-export-processes[processes]' '*'{-p,--param}'[KEY=VALUE]:param:' ;;
    check)
      _arguments '(-c --config)'{-c,--config}'[config file]:file:_files' \
        '(-e --export)'{-e,--export}'[export name]:name:' '*'{-p,--param}'[KEY=VALUE]:param:' \
        '--json[one JSON document]' ;;
    doctor)
      _arguments '(-c --config)'{-c,--config}'[config file]:file:_files' '--json[one JSON document]' ;;
    state)
      _arguments '1:action:(show files reset chunks reset-chunks)' \
        '(-c --config)'{-c,--config}'[config file]:file:_files' \
        '(-e --export)'{-e,--export}'[export name]:name:' '(-l --last)'{-l,--last}'[rows]:n:' ;;
    metrics)
      _arguments '(-c --config)'{-c,--config}'[config file]:file:_files' \
        '(-e --export)'{-e,--export}'[export name]:name:' '(-l --last)'{-l,--last}'[rows]:n:' ;;
    completions) _arguments '1:shell:(bash zsh fish)' ;;
  esac
}
_rivet "$@"
)";

constexpr const char* kFish = R"(# fish completion for rivet
complete -c rivet -f
complete -c rivet -n '__fish_use_subcommand' -a run -d 'Run exports'
complete -c rivet -n '__fish_use_subcommand' -a snapshot -d 'Hold one PostgreSQL snapshot'
complete -c rivet -n '__fish_use_subcommand' -a check -d 'Judge how hard each export hits the source'
complete -c rivet -n '__fish_use_subcommand' -a doctor -d 'Verify source and destination credentials'
complete -c rivet -n '__fish_use_subcommand' -a state -d 'Show or reset export state'
complete -c rivet -n '__fish_use_subcommand' -a metrics -d 'Show run history'
complete -c rivet -n '__fish_use_subcommand' -a completions -d 'Print a shell completion script'
complete -c rivet -n '__fish_use_subcommand' -l version -d 'Show version'
complete -c rivet -n '__fish_seen_subcommand_from state' -a 'show files reset chunks reset-chunks'
complete -c rivet -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'
complete -c rivet -n '__fish_seen_subcommand_from run check doctor state metrics' -s c -l config -r -F -d 'Config file'
complete -c rivet -n '__fish_seen_subcommand_from run check state metrics' -s e -l export -r -d 'Export name'
complete -c rivet -n '__fish_seen_subcommand_from state metrics' -s l -l last -r -d 'Rows to show'
complete -c rivet -n '__fish_seen_subcommand_from run' -l validate -d 'Read each file back'
complete -c rivet -n '__fish_seen_subcommand_from run' -l resume -d 'Resume a checkpointed run'
complete -c rivet -n '__fish_seen_subcommand_from run' -l shard -r -d 'Run shard I/N of the chunks'
complete -c rivet -n '__fish_seen_subcommand_from run' -l worker -d 'Claim chunks of the shared plan'
complete -c rivet -n '__fish_seen_subcommand_from run' -l snapshot -r -d 'Read a held PostgreSQL snapshot'
complete -c rivet -n '__fish_seen_subcommand_from run' -l lease-seconds -r -d 'Lease of a claimed chunk'
complete -c rivet -n '__fish_seen_subcommand_from run' -l parallel-exports -d 'Run exports in threads'
complete -c rivet -n '__fish_seen_subcommand_from run' -l parallel-export-processes -d 'Run exports in processes'
complete -c rivet -n '__fish_seen_subcommand_from run check' -s p -l param -r -d 'KEY=VALUE'
complete -c rivet -n '__fish_seen_subcommand_from check doctor' -l json -d 'One JSON document'
)";

}  // namespace

int CompletionsCommand(const std::string& shell) {
  const char* script = shell == "bash" ? kBash : shell == "zsh" ? kZsh : kFish;
  std::fputs(script, stdout);
  return 0;
}

}  // namespace rivet::cli
