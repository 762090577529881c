/**
 * @module
 * The shell programs the sandbox runs inside its container (sandbox.ts). POSIX sh only,
 * so any image with busybox, dash or bash runs them; arguments always come as "$1"…,
 * never pasted into the script text.
 */

// The first process of every exec prints its pid (= its session and group id) on stdout, then becomes the real script.
export const LEADER = 'echo $$; exec sh -c "$@"';

// The killer: a shell started with the container that waits for session ids on stdin
// and kills each session, its process group and every descendant (found by parent links,
// for children that started a session of their own), in rounds until none is left, then
// answers "killed <id>". It uses shell builtins only, so it works even when the command
// it kills has used up the container's process limit (a second exec could not start).
export const KILLER_SCRIPT = `
killtree() {
  target=$1
  round=0
  while [ "$round" -lt 50 ]; do
    round=$((round + 1))
    found=" "; more=1
    while [ "$more" = 1 ]; do
      more=0
      for f in /proc/[0-9]*/stat; do
        { read -r line < "$f"; } 2>/dev/null || continue
        pid=\${line%% *}
        case "$found" in *" $pid "*) continue ;; esac
        [ "$pid" = 1 ] || [ "$pid" = "$$" ] && continue
        set -- \${line##*) }
        [ "$1" = Z ] && continue
        if [ "$pid" = "$target" ] || [ "$3" = "$target" ] || [ "$4" = "$target" ]; then found="$found$pid "; more=1; continue; fi
        case "$found" in *" $2 "*) found="$found$pid "; more=1 ;; esac
      done
    done
    [ "$found" = " " ] && return 0
    kill -9 $found 2>/dev/null
  done
}
while read -r target; do
  case "$target" in ''|*[!0-9]*) continue ;; esac
  [ "$target" -gt 1 ] && killtree "$target"
  echo "killed $target"
done
`;

// $1 file, $2 byte cap. Exit codes 10–14 are answers (see readFile).
export const READ_SCRIPT = `
[ -e "$1" ] || exit 10
[ -d "$1" ] && exit 11
[ -f "$1" ] || exit 12
size=$(( $(wc -c < "$1") )) || exit 1
[ "$size" -le "$2" ] || { echo "$size"; exit 14; }
exec cat "$1"
`;

// $1 file; content on stdin. A FIFO or device is refused rather than blocked on.
export const WRITE_SCRIPT = `
[ -d "$1" ] && exit 11
[ -e "$1" ] && [ ! -f "$1" ] && exit 12
dir=$(dirname "$1")
[ -d "$dir" ] || mkdir -p "$dir" 2>/dev/null || exit 13
exec cat > "$1"
`;

// $1 folder, $2 depth, $3 cap per kind. .git is left out; node_modules is listed, not entered.
export const LIST_SCRIPT = `
[ -e "$1" ] || exit 10
cd "$1" 2>/dev/null || exit 13
echo //dirs
find . -mindepth 1 -maxdepth "$2" \\( -name .git -prune \\) -o \\( -type d -name node_modules -prune -print \\) -o \\( -type d -print \\) | head -n "$3"
echo //files
find . -mindepth 1 -maxdepth "$2" \\( -name .git -o -name node_modules \\) -prune -o ! -type d -print | head -n "$3"
`;
