/**
 * npm run --silent hash-password: prints the bcrypt hash of a password for
 * basic_auth_users of --web.config.file, with bcryptjs (already a dependency,
 * which checks the hashes), so no htpasswd or Apache tools are needed.
 *
 * The password is read from stdin, never from the command line, so it stays
 * out of shell history and `ps`: typed at a prompt that does not echo it, or
 * piped (`npm run --silent hash-password < file`).
 */
import bcrypt from "bcryptjs";

// exporter-toolkit's documented example cost; every request with basic auth pays it once.
const COST = 10;

/** Reads one line from a terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let typed = "";
    const done = (): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      process.stderr.write("\n");
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          done();
          resolve(typed);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new Error("interrupted"));
          return;
        }
        typed = ch === "\u007f" || ch === "\b" ? typed.slice(0, -1) : typed + ch;
      }
    };
    stdin.on("data", onData);
  });
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the line's end, not part of the password (echo and files add it).
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

try {
  const password = process.stdin.isTTY ? await promptHidden("Password (not shown): ") : await readPiped();
  if (password === "") {
    console.error("hash-password: the password is empty: type one, or pipe it on stdin");
    process.exitCode = 1;
  } else if (Buffer.byteLength(password) > 72) {
    // bcrypt ignores everything after 72 bytes: a longer password would not be what it checks.
    console.error("hash-password: the password is longer than 72 bytes, bcrypt's limit");
    process.exitCode = 1;
  } else {
    console.log(await bcrypt.hash(password, COST));
  }
} catch (e) {
  console.error(`hash-password: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
