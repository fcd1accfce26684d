/* containerd's GetStopSignal and GetOCIStopSignal through the public API:
 * the image config's StopSignal, the container's stop signal label, the
 * caller's default, and the bad values refused with the exact code and no
 * output written. No root needed. */
#include "client-fixture.h"

static void test_image_stop_signal(void **state)
{
	(void)state;
	ctr_image *quit = image_with("lctr.test/quit:1", "{\"StopSignal\":\"SIGQUIT\"}", NULL, NULL);
	ctr_image *none = image_with("lctr.test/none:1", "{\"Env\":[\"A=1\"]}", NULL, NULL);
	ctr_image *empty = image_with("lctr.test/empty:1", "{\"StopSignal\":\"\"}", NULL, NULL);
	ctr_image *num = image_with("lctr.test/num:1", "{\"StopSignal\":\"9\"}", NULL, NULL);
	char *s = NULL;
	assert_int_equal(ctr_image_stop_signal(&s, quit, "SIGTERM", NULL), 0);
	assert_string_equal(s, "SIGQUIT");
	ctr_free(s);
	/* the image's string as it is, as containerd returns it */
	assert_int_equal(ctr_image_stop_signal(&s, num, "SIGTERM", NULL), 0);
	assert_string_equal(s, "9");
	ctr_free(s);
	/* no StopSignal, or an empty one: the default */
	assert_int_equal(ctr_image_stop_signal(&s, none, "SIGINT", NULL), 0);
	assert_string_equal(s, "SIGINT");
	ctr_free(s);
	assert_int_equal(ctr_image_stop_signal(&s, empty, "usr1", NULL), 0);
	assert_string_equal(s, "usr1");
	ctr_free(s);
	/* a default that is no signal is refused before the image is read */
	s = (char *)"untouched";
	ctr_error *e = NULL;
	assert_int_equal(ctr_image_stop_signal(&s, quit, "SIGNOPE", &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), "SIGNOPE"));
	ctr_error_free(e);
	assert_string_equal(s, "untouched");
	assert_int_equal(ctr_image_stop_signal(&s, quit, NULL, NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_stop_signal(NULL, quit, "SIGTERM", NULL), CTR_EINVAL);
	assert_int_equal(ctr_image_stop_signal(&s, NULL, "SIGTERM", NULL), CTR_EINVAL);
	/* a StopSignal that is not a string */
	ctr_image *bad = image_with("lctr.test/bad:1", "{\"StopSignal\":15}", NULL, NULL);
	assert_int_equal(ctr_image_stop_signal(&s, bad, "SIGTERM", NULL), CTR_EINVAL);
	assert_string_equal(s, "untouched");
	ctr_image_free(bad);
	ctr_image_free(quit);
	ctr_image_free(none);
	ctr_image_free(empty);
	ctr_image_free(num);
}

static ctr_container *container_with(const char *id, const char *label)
{
	const char *labels[] = {label, NULL};
	ctr_opt *l = ctr_with_container_labels(labels);
	ctr_container *k = NULL;
	ctr_error *e = NULL;
	int r = ctr_container_new(&k, c, id, CTR_OPTS(l), &e);
	ctr_opt_free(l);
	if (r)
		fail_msg("container %s: %s", id, ctr_error_message(e));
	return k;
}

static void test_container_stop_signal(void **state)
{
	(void)state;
	ctr_container *quit = container_with("quit", CTR_STOP_SIGNAL_LABEL "=SIGQUIT");
	ctr_container *num = container_with("num", CTR_STOP_SIGNAL_LABEL "=9");
	ctr_container *rt = container_with("rt", CTR_STOP_SIGNAL_LABEL "=RTMIN+2");
	ctr_container *other = container_with("other", "other.label=SIGQUIT");
	ctr_container *bad = container_with("bad", CTR_STOP_SIGNAL_LABEL "=SIGNOPE");
	int sig = 0;
	assert_int_equal(ctr_container_stop_signal(&sig, quit, SIGTERM, NULL), 0);
	assert_int_equal(sig, SIGQUIT);
	assert_int_equal(ctr_container_stop_signal(&sig, num, SIGTERM, NULL), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(ctr_container_stop_signal(&sig, rt, SIGTERM, NULL), 0);
	assert_int_equal(sig, SIGRTMIN + 2);
	/* no label: the default */
	assert_int_equal(ctr_container_stop_signal(&sig, other, SIGINT, NULL), 0);
	assert_int_equal(sig, SIGINT);
	/* a label that is no signal names the label and writes nothing */
	sig = -7;
	ctr_error *e = NULL;
	assert_int_equal(ctr_container_stop_signal(&sig, bad, SIGTERM, &e), CTR_EINVAL);
	assert_non_null(strstr(ctr_error_message(e), CTR_STOP_SIGNAL_LABEL));
	assert_non_null(strstr(ctr_error_message(e), "SIGNOPE"));
	ctr_error_free(e);
	assert_int_equal(sig, -7);
	/* the default must be a signal */
	assert_int_equal(ctr_container_stop_signal(&sig, other, 0, NULL), CTR_EINVAL);
	assert_int_equal(ctr_container_stop_signal(&sig, other, 65, NULL), CTR_EINVAL);
	assert_int_equal(ctr_container_stop_signal(&sig, other, -1, NULL), CTR_EINVAL);
	assert_int_equal(sig, -7);
	assert_int_equal(ctr_container_stop_signal(NULL, other, SIGTERM, NULL), CTR_EINVAL);
	assert_int_equal(ctr_container_stop_signal(&sig, NULL, SIGTERM, NULL), CTR_EINVAL);
	/* a label set later is what the handle reads */
	const char *set[] = {CTR_STOP_SIGNAL_LABEL "=SIGUSR1", NULL};
	assert_int_equal(ctr_container_set_labels(other, set, NULL), 0);
	assert_int_equal(ctr_container_stop_signal(&sig, other, SIGTERM, NULL), 0);
	assert_int_equal(sig, SIGUSR1);
	ctr_container_free(quit);
	ctr_container_free(num);
	ctr_container_free(rt);
	ctr_container_free(other);
	ctr_container_free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_image_stop_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_stop_signal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
