import { Argument, type Command, type Option } from 'commander';
import type { CliContext } from '../context.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** One node of the command tree: its path of subcommand names, subcommands, and options. */
interface Node {
  path: string[];
  description: string;
  subcommands: string[];
  options: { flags: string[]; description: string; choices?: readonly string[]; takesValue: boolean }[];
}

const HELP = { flags: ['--help', '-h'], description: 'help for this command', takesValue: false };

function optionsOf(command: Command): Node['options'] {
  return command.options
    .filter((o: Option) => !o.hidden)
    .map((o: Option) => ({
      flags: [o.long, o.short].filter((f): f is string => !!f),
      description: o.description,
      ...(o.argChoices ? { choices: o.argChoices } : {}),
      takesValue: o.required || o.optional,
    }));
}

/** Every command of the tree; below the root, each takes its own options and the global ones. */
function walk(command: Command, path: string[], globals: Node['options']): Node[] {
  const own = optionsOf(command);
  const node: Node = {
    path,
    description: command.description(),
    subcommands: command.commands.map((c) => c.name()),
    options: [...own, ...globals, HELP],
  };
  return [node, ...command.commands.flatMap((c) => walk(c, [...path, c.name()], path.length ? globals : own))];
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash completion: subcommands, then the options of the command typed so far, and the choices of an option that has them. */
function bash(nodes: Node[]): string {
  const key = (n: Node) => n.path.join(' ');
  const cases = (pick: (n: Node) => string) => nodes.map((n) => `    ${quote(key(n))}) echo ${quote(pick(n))} ;;`).join('\n');
  const choices = nodes
    .flatMap((n) =>
      n.options
        .filter((o) => o.choices)
        .flatMap((o) => o.flags.map((f) => `    ${quote(`${key(n)}|${f}`)}) echo ${quote(o.choices!.join(' '))} ;;`)),
    )
    .join('\n');
  const valued = [...new Set(nodes.flatMap((n) => n.options.filter((o) => o.takesValue).flatMap((o) => o.flags)))].join(' ');
  return `# killswitch completion for bash: source <(killswitch completion bash)
_killswitch_subcommands() {
  case "$1" in
${cases((n) => n.subcommands.join(' '))}
  esac
}
_killswitch_options() {
  case "$1" in
${cases((n) => n.options.flatMap((o) => o.flags).join(' '))}
  esac
}
_killswitch_choices() {
  case "$1" in
${choices}
  esac
}
_killswitch() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" w skip=0 i
  local valued=" ${valued} "
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      -*=*) ;;
      -*) [[ "$valued" == *" $w "* ]] && skip=1 ;;
      *) [[ " $(_killswitch_subcommands "$path") " == *" $w "* ]] && path="\${path:+$path }$w" ;;
    esac
  done
  ((COMP_CWORD > 1)) && prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  local values
  values="$(_killswitch_choices "$path|$prev")"
  if [[ -n "$values" ]]; then COMPREPLY=($(compgen -W "$values" -- "$cur")); return; fi
  if [[ "$valued" == *" $prev "* ]]; then COMPREPLY=(); return; fi
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$(_killswitch_options "$path")" -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$(_killswitch_subcommands "$path")" -- "$cur"))
}
complete -F _killswitch killswitch
`;
}

/** zsh runs the bash completion through bashcompinit. */
const zsh = (nodes: Node[]) =>
  `#compdef killswitch\n# killswitch completion for zsh: source <(killswitch completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash(nodes).replace(/^# killswitch completion for bash.*\n/, '')}`;

/**
 * fish: each subcommand and option, with its description, offered once its parent command is
 * typed; the global options everywhere. An option's value: its choices, or files for a path
 * (--reason-file, --state-dir, --file), or nothing to guess (-x: no file names offered).
 */
function fish(nodes: Node[]): string {
  const root = nodes[0]!;
  const globalFlags = new Set(root.options.flatMap((o) => o.flags));
  const option = (o: Node['options'][number]) => {
    const long = o.flags.find((f) => f.startsWith('--'))?.slice(2);
    const short = o.flags.find((f) => /^-[^-]$/.test(f))?.slice(1);
    const value = !o.takesValue ? '' : !o.choices && /(^|-)(file|dir)$/.test(long ?? '') ? ' -r -F' : ' -x';
    return `${long ? ` -l ${long}` : ''}${short ? ` -s ${short}` : ''}${value}${o.choices ? ` -a ${quote(o.choices.join(' '))}` : ''} -d ${quote(o.description)}`;
  };
  const lines = ['# killswitch completion for fish: killswitch completion fish | source', 'complete -c killswitch -f'];
  for (const o of root.options) lines.push(`complete -c killswitch${option(o)}`);
  for (const n of nodes) {
    // Every word of the path typed (\`incident list\` and \`resume list\` are told apart).
    // ... and no other top-level command: \`local status\` is not \`status\`.
    const others = root.subcommands.filter((c) => !n.path.includes(c));
    const condition = n.path.length
      ? [
          ...n.path.map((p) => `__fish_seen_subcommand_from ${p}`),
          ...(others.length ? [`not __fish_seen_subcommand_from ${others.join(' ')}`] : []),
        ].join('; and ')
      : `not __fish_seen_subcommand_from ${root.subcommands.join(' ')}`;
    for (const sub of n.subcommands) {
      const child = nodes.find((c) => c.path.join(' ') === [...n.path, sub].join(' '))!;
      lines.push(`complete -c killswitch -n ${quote(condition)} -a ${quote(sub)} -d ${quote(child.description)}`);
    }
    if (!n.path.length) continue;
    for (const o of n.options.filter((o) => !o.flags.some((f) => globalFlags.has(f))))
      lines.push(`complete -c killswitch -n ${quote(condition)}${option(o)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for a shell, from the command tree as `program` declares it (so it never falls behind). */
export function completionScript(program: Command, shell: Shell): string {
  const nodes = walk(program, [], []);
  return shell === 'bash' ? bash(nodes) : shell === 'zsh' ? zsh(nodes) : fish(nodes);
}

/** `completion bash|zsh|fish`: prints the script to source. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, options and their choices)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(killswitch completion bash)        # in ~/.bashrc\n  source <(killswitch completion zsh)         # in ~/.zshrc\n  killswitch completion fish > ~/.config/fish/completions/killswitch.fish',
    )
    .action((shell: Shell) => cli.io.out(completionScript(program, shell).trimEnd()));
}
