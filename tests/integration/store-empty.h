/* Test helper: asserts that a client's namespace holds nothing a pull
 * could have left: no blob, image, ingest or lease (the callers include
 * cmocka first). */
#ifndef CTR_TEST_STORE_EMPTY_H
#define CTR_TEST_STORE_EMPTY_H

#include <ctr/ctr.h>

static void assert_empty(ctr_client *c)
{
	ctr_content_info **ci = NULL;
	size_t n = 9;
	assert_int_equal(ctr_content_list(&ci, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_content_info_list_free(ci, n);
	ctr_image **im = NULL;
	assert_int_equal(ctr_image_list(&im, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_image_list_free(im, n);
	ctr_content_status **st = NULL;
	assert_int_equal(ctr_content_status_list(&st, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_content_status_list_free(st, n);
	ctr_lease **ls = NULL;
	assert_int_equal(ctr_lease_list(&ls, &n, c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(n, 0);
	ctr_lease_list_free(ls, n);
}

#endif
