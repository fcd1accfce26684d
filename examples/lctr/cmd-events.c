/* lctr events: streams the events of every process that shares the state
 * directory, one line each, as ctr prints them:
 *   2024-01-01 10:00:00.123456789 +0000 UTC default /images/create {"name":"..."} */
#include "lctr.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Go's time.Time.String() for a UTC time, which is what ctr prints: the
 * fraction has its trailing zeros cut and disappears when zero. */
static void format_time(int64_t ns, char *buf, size_t len)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (frac) {
		char f[16];
		snprintf(f, sizeof(f), ".%09" PRId64, frac);
		size_t k = strlen(f);
		while (f[k - 1] == '0')
			f[--k] = 0;
		snprintf(buf + n, len - n, "%s", f);
		n += k;
	}
	snprintf(buf + n, len - n, " +0000 UTC");
}

int lctr_cmd_events(struct lctr *g, int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	ctr_client *c = lctr_client(g);
	if (!c)
		return 1;
	ctr_subscription *s = NULL;
	ctr_error *err = NULL;
	if (ctr_event_subscribe(&s, c, (const char *const *)argv + first, (size_t)(argc - first),
				 CTR_NO_OPTS, &err) < 0)
		return lctr_fail("subscribe", err);
	int rc = 0;
	for (;;) {
		ctr_event *e = NULL;
		if (ctr_subscription_next(&e, s, -1, &err) < 0) {
			rc = lctr_fail("events", err);
			break;
		}
		char ts[64];
		format_time(ctr_event_timestamp(e), ts, sizeof(ts));
		printf("%s %s %s %s\n", ts, ctr_event_namespace(e), ctr_event_topic(e), ctr_event_payload(e));
		ctr_event_free(e);
		if (fflush(stdout) != 0) {
			rc = 1; /* the reader went away */
			break;
		}
	}
	ctr_subscription_free(s);
	return rc;
}
