// Package silence is an audio device with nothing attached: it captures
// silence and discards what it is given, optionally at real-time pace, so
// that the daemon and tests run without a sound card.
package silence

import (
	"context"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/internal/pace"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

// Device is a silent audio.Device.
type Device struct {
	mu      sync.Mutex // one pacer per direction, each used by one caller at a time
	read    *pace.Pacer
	write   *pace.Pacer
	wmu     sync.Mutex
	written int
}

var _ audio.Device = (*Device)(nil)

// New returns a silent device; with clk set, Read and Write each take one
// frame time per frame on clk, as a sound card would.
func New(clk clock.Clock) *Device {
	d := &Device{}
	if clk != nil {
		d.read = pace.New(clk, audio.FrameTime)
		d.write = pace.New(clk, audio.FrameTime)
	}
	return d
}

// Read fills frame with silence.
func (d *Device) Read(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.read.Wait(ctx); err != nil {
		return err
	}
	clear(frame)
	return nil
}

// Write discards frame.
func (d *Device) Write(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.write.Wait(ctx); err != nil {
		return err
	}
	d.written++
	return nil
}

// Written returns how many frames Write took.
func (d *Device) Written() int {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.written
}

// Latency is zero: nothing is buffered.
func (d *Device) Latency() time.Duration { return 0 }

// Close does nothing.
func (d *Device) Close() error { return nil }
