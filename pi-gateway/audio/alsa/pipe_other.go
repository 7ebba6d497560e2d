//go:build !linux

package alsa

import "os"

// setPipeSize cannot shrink a pipe here; the pipe's default size adds to
// the latency.
func setPipeSize(*os.File, int) int { return 0 }

// pipeFill is unknown here.
func pipeFill(*os.File) (int, bool) { return 0, false }
