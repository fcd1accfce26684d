// pull-run through cgo: libctr called from Go with no variadic function and
// no module beyond the standard library.
//
//	pullrun [-plain-http] ROOT STATE REF MISSING_REF
//
// Pulls and unpacks REF, runs `sh -c 'echo hello from go; exit 3'` in a
// container on a new snapshot of it, prints "exit status: 3", deletes the
// task, the container and its snapshot, then pulls MISSING_REF (a tag the
// registry does not have) and prints the error's code and message. Every
// option, handle and error is freed; the program counts them and fails if
// one is left.
//
// Options cross as (const ctr_opt *const *opts, size_t n_opts): a Go slice
// of *C.ctr_opt, passed as a pointer to its first element for the length of
// one call (cgo allows it: the slice holds only C pointers). The spec options
// of ctr_with_new_spec are borrowed until that option is freed, longer than
// the call, so that array lives in C memory.
package main

/*
#cgo LDFLAGS: -lctr
#include <ctr/ctr.h>
#include <stdlib.h>
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"unsafe"
)

// live counts what this program made and has not freed yet.
var live int

// ctrError is a failed call: the code (C.CTR_E*) and the library's message.
type ctrError struct {
	code    int
	message string
}

func (e *ctrError) Error() string {
	return fmt.Sprintf("%s (%s)", e.message, C.GoString(C.ctr_strerror(C.int(e.code))))
}

// check turns a call's result and its ctr_error into a Go error, freeing
// the ctr_error.
func check(r C.int, cerr *C.ctr_error) error {
	if r >= 0 {
		return nil
	}
	e := &ctrError{code: int(r), message: C.GoString(C.ctr_strerror(r))}
	if cerr != nil {
		e.code = int(C.ctr_error_code_of(cerr))
		e.message = C.GoString(C.ctr_error_message(cerr))
		C.ctr_error_free(cerr)
	}
	return e
}

// opts holds options for one call; free them after it.
type opts []*C.ctr_opt

func (o *opts) add(opt *C.ctr_opt) {
	if opt == nil {
		panic("an option constructor failed")
	}
	live++
	*o = append(*o, opt)
}

// ptr and n are the (opts, n_opts) arguments.
func (o opts) ptr() **C.ctr_opt {
	if len(o) == 0 {
		return nil
	}
	return (**C.ctr_opt)(unsafe.Pointer(&o[0]))
}

func (o opts) n() C.size_t { return C.size_t(len(o)) }

func (o opts) free() {
	for _, opt := range o {
		C.ctr_opt_free(opt)
		live--
	}
}

// cstrv is a NULL-terminated array of C strings in C memory.
type cstrv struct {
	p   **C.char
	len int
}

func newCstrv(s []string) cstrv {
	p := (**C.char)(C.calloc(C.size_t(len(s)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	v := unsafe.Slice(p, len(s)+1)
	for i, x := range s {
		v[i] = C.CString(x)
	}
	live++
	return cstrv{p, len(s)}
}

func (v cstrv) free() {
	for _, s := range unsafe.Slice(v.p, v.len) {
		C.free(unsafe.Pointer(s))
	}
	C.free(unsafe.Pointer(v.p))
	live--
}

// cstr is C.CString, counted.
func cstr(s string) *C.char { live++; return C.CString(s) }
func freeCstr(s *C.char)    { C.free(unsafe.Pointer(s)); live-- }

type app struct {
	client    *C.ctr_client
	plainHTTP bool
}

// pull runs ctr_image_pull with unpack when asked and plain HTTP when the
// registry needs it.
func (a *app) pull(ref string, unpack bool) (*C.ctr_image, error) {
	var o opts
	if unpack {
		o.add(C.ctr_with_pull_unpack())
	}
	if a.plainHTTP {
		o.add(C.ctr_with_plain_http())
	}
	defer o.free()
	cref := cstr(ref)
	defer freeCstr(cref)
	var img *C.ctr_image
	var cerr *C.ctr_error
	if err := check(C.ctr_image_pull(&img, a.client, cref, o.ptr(), o.n(), &cerr), cerr); err != nil {
		return nil, err
	}
	live++
	return img, nil
}

func freeImage(img *C.ctr_image) { C.ctr_image_free(img); live-- }

// newContainer: WithImage, WithNewSnapshot and WithNewSpec(WithImageConfigArgs).
func (a *app) newContainer(id string, img *C.ctr_image, args []string) (*C.ctr_container, error) {
	var config *C.char
	var cerr *C.ctr_error
	if err := check(C.ctr_image_config(&config, img, &cerr), cerr); err != nil {
		return nil, err
	}
	defer C.ctr_free(unsafe.Pointer(config))
	cargs := newCstrv(args)
	defer cargs.free()

	// The spec options' array must outlive this call: C memory.
	specOpts := (**C.ctr_opt)(C.malloc(C.size_t(unsafe.Sizeof((*C.ctr_opt)(nil)))))
	defer C.free(unsafe.Pointer(specOpts))
	spec := unsafe.Slice(specOpts, 1)
	spec[0] = C.ctr_with_image_config_args(config, cargs.p)
	live++
	defer func() { C.ctr_opt_free(spec[0]); live-- }() // after the container options

	key := cstr(id + "-snapshot")
	defer freeCstr(key)
	var o opts
	o.add(C.ctr_with_image(img))
	o.add(C.ctr_with_new_snapshot(key, img))
	o.add(C.ctr_with_new_spec(specOpts, 1))
	defer o.free()

	cid := cstr(id)
	defer freeCstr(cid)
	var k *C.ctr_container
	if err := check(C.ctr_container_new(&k, a.client, cid, o.ptr(), o.n(), &cerr), cerr); err != nil {
		return nil, err
	}
	live++
	return k, nil
}

// run starts the container's task on our stdio, waits, deletes the task
// and returns the exit status.
func run(k *C.ctr_container) (uint32, error) {
	var o opts
	o.add(C.ctr_with_stdio_inherit())
	var t *C.ctr_task
	var cerr *C.ctr_error
	err := check(C.ctr_container_new_task(&t, k, o.ptr(), o.n(), &cerr), cerr)
	o.free()
	if err != nil {
		return 0, err
	}
	defer C.ctr_task_free(t)
	var status C.uint32_t
	cerr = nil
	if err = check(C.ctr_task_start(t, &cerr), cerr); err == nil {
		cerr = nil
		err = check(C.ctr_task_wait(&status, nil, t, -1, &cerr), cerr)
	}
	// Delete also when start or wait failed, killing what runs.
	var del opts
	del.add(C.ctr_with_process_kill())
	defer del.free()
	cerr = nil
	if derr := check(C.ctr_task_delete(nil, t, del.ptr(), del.n(), &cerr), cerr); err == nil {
		err = derr
	}
	return uint32(status), err
}

func deleteContainer(k *C.ctr_container) error {
	var o opts
	o.add(C.ctr_with_snapshot_cleanup())
	defer o.free()
	var cerr *C.ctr_error
	err := check(C.ctr_container_delete(k, o.ptr(), o.n(), &cerr), cerr)
	C.ctr_container_free(k)
	live--
	return err
}

func main() {
	os.Exit(mainRC())
}

func mainRC() int {
	plainHTTP := flag.Bool("plain-http", false, "talk plain HTTP to the registry")
	flag.Parse()
	if flag.NArg() != 4 {
		fmt.Fprintln(os.Stderr, "usage: pullrun [-plain-http] ROOT STATE REF MISSING_REF")
		return 2
	}
	root, state, ref, missing := flag.Arg(0), flag.Arg(1), flag.Arg(2), flag.Arg(3)
	fmt.Println("libctr", C.GoString(C.ctr_version()))

	a := &app{plainHTTP: *plainHTTP}
	croot, cstate := cstr(root), cstr(state)
	var o opts
	o.add(C.ctr_with_root(croot))
	o.add(C.ctr_with_state(cstate))
	var cerr *C.ctr_error
	err := check(C.ctr_client_new(&a.client, o.ptr(), o.n(), &cerr), cerr)
	o.free()
	freeCstr(croot)
	freeCstr(cstate)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pullrun: client:", err)
		return 1
	}
	live++
	rc := a.pullRun(ref, missing)
	C.ctr_client_free(a.client)
	live--
	fmt.Printf("objects not freed: %d\n", live)
	if live != 0 {
		return 1
	}
	return rc
}

func (a *app) pullRun(ref, missing string) int {
	img, err := a.pull(ref, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pullrun: pull:", err)
		return 1
	}
	fmt.Printf("pulled %s (%s)\n", C.GoString(C.ctr_image_name(img)), C.GoString(C.ctr_image_target_digest(img)))
	k, err := a.newContainer("pull-run-go", img, []string{"/bin/sh", "-c", "echo hello from go; exit 3"})
	freeImage(img)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pullrun: new container:", err)
		return 1
	}
	status, err := run(k)
	if derr := deleteContainer(k); err == nil {
		err = derr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pullrun: run:", err)
		return 1
	}
	fmt.Printf("exit status: %d\n", status)

	// An error: a tag the registry does not have.
	img, err = a.pull(missing, false)
	if err == nil {
		freeImage(img)
		fmt.Fprintln(os.Stderr, "pullrun: pull of", missing, "succeeded")
		return 1
	}
	e := err.(*ctrError)
	fmt.Printf("error code %d (%s): %s\n", e.code, C.GoString(C.ctr_strerror(C.int(e.code))), e.message)
	if e.code != C.CTR_ENOTFOUND {
		return 1
	}
	return 0
}
