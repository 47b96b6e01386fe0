package pgwire

import "syscall"

// syscallEMFILE is the error of an Accept that ran out of file descriptors;
// Serve retries it after a pause.
var syscallEMFILE error = syscall.EMFILE
