/* src/commands.h — one entry point per subcommand, each in src/cmd_<name>.c.
 * Each gets argv with argv[0] = the command name and returns an exit code
 * (src/cli.h).  "--help" prints to stdout and returns 0. */
#ifndef LR_COMMANDS_H
#define LR_COMMANDS_H

int cmd_ask(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
