/* The hostile-tar cases of test-apply.c's test_breakouts, as data, for
 * writers that must refuse exactly what the directory apply refuses (the
 * EROFS writer, test-erofs.c). A name or link starting with "@V" means the
 * absolute path of the victim directory beside the layer, followed by the
 * rest of the string. Only overlay-mode cases: a layer image has no
 * deletion mode. */
#ifndef CTR_TESTS_APPLY_CASES_H
#define CTR_TESTS_APPLY_CASES_H

#include <ctr/common.h>

struct apply_step {
	char kind; /* f file, d dir, s symlink, h hardlink, c char dev */
	const char *name;
	const char *link;
};

struct apply_case {
	const char *what;
	int want;
	const char *names; /* a part of the error message, or NULL */
	struct apply_step steps[6];
};

static const struct apply_case apply_cases[] = {
	{"dotdot", 0, NULL, {{'f', "../victim/evil", NULL}, {'f', "../../../../evil2", NULL}}},
	{"absolute", 0, NULL, {{'f', "@V/evil", NULL}, {'f', "/abs/x", NULL}}},
	{"newline dotdot", 0, NULL, {{'f', "x\n../../victim/evil", NULL}}},
	{"relative symlink", 0, NULL,
	 {{'d', "victim/", NULL}, {'s', "esc", "../../../victim"}, {'f', "esc/evil", NULL}}},
	{"absolute symlink", CTR_EINVAL, "abs/evil", {{'s', "abs", "@V"}, {'f', "abs/evil", NULL}}},
	{"symlink to /", 0, NULL, {{'s', "root", "/"}, {'f', "root/evil", NULL}}},
	{"swap dir for symlink", CTR_EINVAL, "d/evil",
	 {{'d', "d/", NULL}, {'f', "d/a", NULL}, {'s', "d", "@V"}, {'f', "d/evil", NULL}}},
	{"swap dir for symlink to ..", 0, NULL,
	 {{'d', "d/", NULL}, {'f', "d/a", NULL}, {'s', "d", ".."}, {'f', "d/evil", NULL}}},
	{"file through symlink", 0, NULL, {{'f', "f", NULL}, {'s', "f", "@V/secret"}, {'f', "f", NULL}}},
	{"symlink dot", CTR_EINVAL, "apply: .:", {{'s', ".", "@V"}}},
	{"symlink x/..", CTR_EINVAL, "x/..", {{'s', "x/..", "@V"}}},
	{"file at root", CTR_EINVAL, "x/..", {{'f', "x/..", NULL}}},
	{"hardlink dotdot", CTR_ENOTFOUND, "hl", {{'h', "hl", "../victim/secret"}}},
	{"hardlink absolute", CTR_ENOTFOUND, "hl", {{'h', "hl", "@V/secret"}}},
	{"hardlink via symlink", CTR_ENOTFOUND, "hl", {{'s', "s", "@V"}, {'h', "hl", "s/secret"}}},
	{"hardlink via symlink up", CTR_ENOTFOUND, "hl", {{'s', "s", "../victim"}, {'h', "hl", "s/secret"}}},
	{"hardlink to ..", CTR_EINVAL, "hl", {{'h', "hl", ".."}}},
	{"hardlink to dir", CTR_EINVAL, "hl", {{'d', "dd/", NULL}, {'h', "hl", "dd"}}},
	{"hardlink to self", CTR_EINVAL, "hl", {{'h', "hl", "./hl"}}},
	{"hardlink clamped inside", 0, NULL,
	 {{'d', "victim/", NULL}, {'f', "victim/secret", NULL}, {'h', "hl", "../../victim/secret"}}},
	{"hardlink to symlink", 0, NULL, {{'s', "s", "@V/secret"}, {'h', "hl", "s"}}},
	{"whiteout dotdot overlay", 0, NULL, {{'f', "../.wh.secret", NULL}, {'f', "a/../../.wh.victim", NULL}}},
	{"whiteout of .. in dir", CTR_EINVAL, "d/.wh..", {{'d', "d/", NULL}, {'f', "d/.wh..", NULL}}},
	{"opaque through symlink overlay", CTR_EINVAL, "s/.wh..wh..opq",
	 {{'s', "s", "@V"}, {'f', "s/.wh..wh..opq", NULL}}},
	{"device dotdot", 0, NULL, {{'c', "../victim/null", NULL}, {'s', "root", "/"}, {'c', "root/dev", NULL}}},
};

#endif
