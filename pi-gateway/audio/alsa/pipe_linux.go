package alsa

import (
	"os"
	"syscall"
	"unsafe"
)

// setPipeSize shrinks a pipe to about n bytes (the kernel rounds up to a
// page), so it cannot hide much audio; it returns the size it got, or 0.
func setPipeSize(f *os.File, n int) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var got uintptr
	_ = rc.Control(func(fd uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETPIPE_SZ, uintptr(n))
		if errno == 0 {
			got = r
		}
	})
	return int(got)
}

// pipeFill is how many bytes wait in the pipe (FIONREAD, which Linux
// answers on either end).
func pipeFill(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int32
	ok := false
	_ = rc.Control(func(fd uintptr) {
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
		ok = errno == 0
	})
	return int(n), ok
}
