/* lctr completion bash|zsh, and the hidden lctr __complete the scripts
 * call: the candidates come from the tables the parser dispatches on
 * (commands, aliases, flags), and names (images, containers, tasks,
 * snapshots) from the root, so the completion cannot drift from lctr. */
#include "lctr.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const global_flags[] = {"--root", "--state", "--namespace", "-n", "--debug", "--help", NULL};

static void put(const char *word, const char *cur)
{
	if (!strncmp(word, cur, strlen(cur)))
		puts(word);
}

/* The command's or group's flags: --name and -c. */
static void put_flags(const struct lctr_flag *const *tabs, size_t nt, const char *cur)
{
	char buf[80];
	for (size_t t = 0; t < nt; t++)
		for (const struct lctr_flag *f = tabs[t]; f && f->name; f++) {
			snprintf(buf, sizeof(buf), "--%s", f->name);
			put(buf, cur);
			if (f->shortc) {
				snprintf(buf, sizeof(buf), "-%c", f->shortc);
				put(buf, cur);
			}
		}
	for (size_t i = 0; global_flags[i]; i++)
		put(global_flags[i], cur);
}

static const struct lctr_flag *lookup(const struct lctr_flag *const *tabs, size_t nt, const char *w)
{
	size_t len = strcspn(w, "=");
	for (size_t t = 0; t < nt; t++)
		for (const struct lctr_flag *f = tabs[t]; f && f->name; f++)
			if (w[1] == '-' ? strlen(f->name) == len - 2 && !strncmp(f->name, w + 2, len - 2)
					: f->shortc && f->shortc == w[1] && !w[2])
				return f;
	return NULL;
}

/* The word of usage that positional argument i stands for ("REF" of
 * "SRC DST..."'s second is "DST"): copied into buf without brackets. */
static const char *usage_word(const char *usage, int i, char *buf, size_t len)
{
	char last[64] = "";
	bool many = false;
	for (const char *u = usage; u && *u;) {
		u += strspn(u, " ");
		size_t n = strcspn(u, " ");
		if (!n)
			break;
		size_t k = 0;
		for (size_t j = 0; j < n && k + 1 < sizeof(last); j++)
			if (u[j] != '[' && u[j] != ']' && u[j] != '.')
				last[k++] = u[j];
		last[k] = 0;
		many = n >= 3 && !strncmp(u + n - 3, "...", 3);
		if (i-- == 0)
			break;
		u += n;
	}
	if (i >= 0 && !many)
		return NULL;
	snprintf(buf, len, "%s", last);
	return buf;
}

/* Whether the root and state exist: completing never creates them. */
static bool dir_exists(const char *dir, bool state)
{
	char buf[4096];
	struct stat st;
	if (!dir) {
		const char *env = getenv(state ? "XDG_RUNTIME_DIR" : "XDG_DATA_HOME"), *sub = "";
		if (geteuid() == 0) {
			env = state ? "/run" : "/var/lib";
		} else if (!env || *env != '/') {
			env = getenv("HOME");
			sub = state ? "/.cache" : "/.local/share";
		}
		if (!env)
			return false;
		snprintf(buf, sizeof(buf), "%s%s/libctr", env, sub);
		dir = buf;
	}
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

enum kind { K_NONE, K_IMAGES, K_CONTAINERS, K_TASKS, K_SNAPSHOTS };

static void put_names(struct lctr *g, enum kind k, const char *snapshotter, const char *cur)
{
	if (k == K_NONE || !dir_exists(g->root, false) || !dir_exists(g->state, true))
		return;
	/* errors stay off the terminal: nothing to offer then */
	int saved = dup(STDERR_FILENO);
	FILE *null = fopen("/dev/null", "w");
	if (null)
		dup2(fileno(null), STDERR_FILENO);
	ctr_client *c = lctr_client(g);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (null)
		fclose(null);
	if (!c)
		return;
	size_t n = 0;
	if (k == K_IMAGES) {
		ctr_image **v = NULL;
		if (ctr_image_list(&v, &n, c, NULL, 0, NULL, 0, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				put(ctr_image_name(v[i]), cur);
		ctr_image_list_free(v, n);
	} else if (k == K_SNAPSHOTS) {
		ctr_snapshot_info **v = NULL;
		if (ctr_snapshot_list(&v, &n, c, snapshotter, NULL, 0, NULL, 0, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				put(ctr_snapshot_info_name(v[i]), cur);
		ctr_snapshot_info_list_free(v, n);
	} else {
		ctr_container **v = NULL;
		if (ctr_container_list(&v, &n, c, NULL, 0, NULL, 0, NULL) == 0)
			for (size_t i = 0; i < n; i++) {
				ctr_task *t = NULL;
				if (k == K_TASKS && ctr_container_task(&t, v[i], NULL) < 0)
					continue;
				ctr_task_free(t);
				put(ctr_container_id(v[i]), cur);
			}
		ctr_container_list_free(v, n);
	}
}

/* What a positional argument names, from the group and the usage word. */
static enum kind arg_kind(const char *group, const struct lctr_cmd *c, int pos)
{
	char w[64];
	if (!usage_word(c->usage, pos, w, sizeof(w)))
		return K_NONE;
	if (strstr(w, "IMAGE") || (group && !strcmp(group, "images") && (!strcmp(w, "REF") || !strcmp(w, "SRC"))))
		return K_IMAGES;
	if (!strcmp(w, "ID") && group && !strcmp(group, "tasks"))
		return strcmp(c->name, "start") ? K_TASKS : K_CONTAINERS;
	if (!strcmp(w, "ID") && group && !strcmp(group, "containers"))
		return K_CONTAINERS;
	if ((!strcmp(w, "KEY") || !strcmp(w, "PARENT")) && group && !strcmp(group, "snapshots"))
		return K_SNAPSHOTS;
	return K_NONE;
}

/* __complete WORD... CUR: the candidates for CUR after the words (the
 * command line after "lctr"), one a line. */
int lctr_cmd_complete(struct lctr *g, int argc, char **argv)
{
	int first = argc > 1 && !strcmp(argv[1], "--") ? 2 : 1;
	if (argc <= first)
		return 0;
	const char *cur = argv[argc - 1], *group = NULL, *snapshotter = NULL;
	const struct lctr_cmd *table = lctr_top_cmds, *cmd = NULL;
	size_t n_table = lctr_n_top_cmds;
	const struct lctr_flag *gflags = NULL;
	int pos = 0;
	bool value_next = false, snap_value = false, rest = false;
	for (int i = first; i < argc - 1; i++) {
		char *w = argv[i];
		if (value_next) {
			if (snap_value)
				snapshotter = w;
			value_next = snap_value = false;
			continue;
		}
		if (rest)
			continue;
		if (w[0] == '-' && w[1] && !(cmd && cmd->stop && pos >= cmd->stop)) {
			/* a global flag: its value may be the next word */
			int k = lctr_take_global(g, NULL, argc - 1, argv, i);
			if (k > 0) {
				i += k - 1;
				continue;
			}
			if (k < 0)
				return 0;
			const struct lctr_flag *tabs[2] = {cmd ? cmd->flags : gflags, cmd ? cmd->more_flags : NULL};
			const struct lctr_flag *f = lookup(tabs, 2, w);
			if (f && f->has_arg == required_argument && !strchr(w, '=')) {
				value_next = true;
				snap_value = !cmd && gflags && !strcmp(f->name, "snapshotter");
			} else if (f && !cmd && gflags && !strcmp(f->name, "snapshotter")) {
				snapshotter = strchr(w, '=') + 1;
			}
			continue;
		}
		if (cmd) {
			if (cmd->stop && ++pos > cmd->stop)
				rest = true; /* the command line of run, exec... */
			else if (!cmd->stop)
				pos++;
			continue;
		}
		const struct lctr_cmd *found = NULL;
		for (size_t k = 0; k < n_table && !found; k++)
			if (lctr_cmd_matches(&table[k], w))
				found = &table[k];
		if (!found)
			return 0;
		if (found->group) {
			group = found->name;
			table = found->group->cmds;
			n_table = found->group->n;
			gflags = found->group->flags;
		} else {
			cmd = found;
		}
	}
	if (value_next || rest || (cmd && cmd->stop && pos >= cmd->stop))
		return 0; /* a flag's value or the container's command: the shell's own */
	if (cur[0] == '-') {
		const struct lctr_flag *tabs[2] = {cmd ? cmd->flags : gflags, cmd ? cmd->more_flags : NULL};
		put_flags(tabs, 2, cur);
		return 0;
	}
	if (cmd) {
		put_names(g, arg_kind(group, cmd, pos), snapshotter, cur);
		return 0;
	}
	for (size_t k = 0; k < n_table; k++) {
		if (!strncmp(table[k].name, "__", 2))
			continue;
		put(table[k].name, cur);
		/* an alias when the name does not match: "i del" offers delete
		 * and del, "ima" only images */
		if (!strncmp(table[k].name, cur, strlen(cur)))
			continue;
		for (const char *a = table[k].aliases; a && *a;) {
			size_t len = strcspn(a, " ");
			char buf[64];
			snprintf(buf, sizeof(buf), "%.*s", (int)len, a);
			put(buf, cur);
			a += len;
			a += strspn(a, " ");
		}
	}
	return 0;
}

static void bash(void)
{
	fputs("# bash completion for lctr: eval \"$(lctr completion bash)\"\n"
	      "# The candidates come from lctr itself (lctr __complete WORDS... CURRENT).\n"
	      "_lctr() {\n"
	      "\tlocal IFS=$'\\n'\n"
	      "\tCOMPREPLY=($(\"${COMP_WORDS[0]}\" __complete -- \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null))\n"
	      "}\n"
	      "complete -o default -F _lctr lctr\n",
	      stdout);
}

static void zsh(void)
{
	fputs("#compdef lctr\n"
	      "# zsh completion for lctr: lctr completion zsh > \"${fpath[1]}/_lctr\", or\n"
	      "# source it after compinit. The candidates come from lctr itself.\n"
	      "_lctr() {\n"
	      "\tlocal -a cands\n"
	      "\tcands=(${(f)\"$(${words[1]} __complete -- ${words[2,CURRENT]} 2>/dev/null)\"})\n"
	      "\tif (( ${#cands} )); then\n"
	      "\t\tcompadd -Q -- $cands\n"
	      "\telse\n"
	      "\t\t_files\n"
	      "\tfi\n"
	      "}\n"
	      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
	      "\t_lctr \"$@\"\n"
	      "else\n"
	      "\tcompdef _lctr lctr\n"
	      "fi\n",
	      stdout);
}

int lctr_cmd_completion(struct lctr *g, int argc, char **argv)
{
	(void)g;
	if (argc == 2 && !strcmp(argv[1], "bash"))
		bash();
	else if (argc == 2 && !strcmp(argv[1], "zsh"))
		zsh();
	else {
		lctr_failf("completion: want bash or zsh, not \"%s\"", argc > 1 ? argv[1] : "");
		return 2;
	}
	return 0;
}
