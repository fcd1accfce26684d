/* lctr completion bash|zsh: a shell completion script for lctr's commands. */
#include "lctr.h"

#include <stdio.h>
#include <string.h>

/* Each group and its sub-commands, as the dispatch tables have them. */
static const char *const groups[][2] = {
	{"version", ""},
	{"info", ""},
	{"namespaces", "ls create rm label"},
	{"leases", "ls create rm"},
	{"content", "ingest ls get fetch rm label active"},
	{"images", "pull push ls rm tag check usage mount unmount import export"},
	{"snapshots", "ls info usage rm prepare view commit mounts tree label"},
	{"gc", ""},
	{"events", ""},
	{"run", ""},
	{"containers", "create ls rm info label"},
	{"tasks", "start ls kill rm wait exec ps pause resume metrics attach update"},
	{"completion", "bash zsh"},
};

static void bash(void)
{
	printf("# bash completion for lctr: eval \"$(lctr completion bash)\"\n"
	       "_lctr() {\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} i cmd=\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tcase ${COMP_WORDS[i]} in --root|--state|-n|--namespace) ((i++)) ;; -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
	       "\tdone\n"
	       "\tcase $cmd in\n"
	       "\t'') COMPREPLY=($(compgen -W \"");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		printf("%s%s", i ? " " : "", groups[i][0]);
	printf(" --root --state --namespace --debug\" -- \"$cur\")) ;;\n");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (*groups[i][1])
			printf("\t%s) [ $((COMP_CWORD - i)) = 1 ] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n",
			       groups[i][0], groups[i][1]);
	printf("\tesac\n}\ncomplete -F _lctr lctr\n");
}

static void zsh(void)
{
	printf("#compdef lctr\n# zsh completion for lctr: lctr completion zsh > ${fpath[1]}/_lctr\n"
	       "_lctr() {\n\tlocal -a cmds\n\tcmds=(");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		printf("%s%s", i ? " " : "", groups[i][0]);
	printf(")\n\tif (( CURRENT == 2 )); then\n\t\t_describe command cmds\n\t\treturn\n\tfi\n\tcase $words[2] in\n");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (*groups[i][1])
			printf("\t%s) (( CURRENT == 3 )) && compadd %s ;;\n", groups[i][0], groups[i][1]);
	printf("\tesac\n}\n_lctr \"$@\"\n");
}

int lctr_cmd_completion(struct lctr *g, int argc, char **argv)
{
	(void)g;
	if (argc == 2 && !strcmp(argv[1], "bash"))
		bash();
	else if (argc == 2 && !strcmp(argv[1], "zsh"))
		zsh();
	else
		return lctr_failf("completion: usage: lctr completion bash|zsh");
	return 0;
}
