package alsa

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/resample"
)

// captureLimit bounds the captured audio kept for Read (1 s); older audio
// is dropped when no one reads, so a late reader gets fresh speech.
const captureLimit = audio.SampleRate

// duplex is the card-independent half: the card's callback pushes captured
// samples and pulls playback samples at the card's rate; Read and Write
// move 8 kHz frames.
type duplex struct {
	down, up *resample.Resampler
	playMax  int // samples at the card rate Write may queue
	frameOut int // the most samples one frame becomes at the card rate

	mu      sync.Mutex
	capt    []int16 // 8 kHz
	play    []int16 // card rate
	changed chan struct{}
	closed  bool
	scratch []int16

	overruns, underruns int
}

func newDuplex(cfg Config) (*duplex, error) {
	down, err := resample.New(cfg.Rate, audio.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("alsa: %w", err)
	}
	up, err := resample.New(audio.SampleRate, cfg.Rate)
	if err != nil {
		return nil, fmt.Errorf("alsa: %w", err)
	}
	return &duplex{
		down: down, up: up,
		playMax:  cfg.PlayoutFrames * up.OutLen(audio.FrameSamples),
		frameOut: up.OutLen(audio.FrameSamples),
		changed:  make(chan struct{}),
	}, nil
}

// notify wakes waiters; d.mu must be held.
func (d *duplex) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// capture takes samples from the card (its callback).
func (d *duplex) capture(in []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.scratch = d.down.Process(d.scratch[:0], in)
	d.capt = append(d.capt, d.scratch...)
	if over := len(d.capt) - captureLimit; over > 0 {
		d.overruns++
		d.capt = append(d.capt[:0], d.capt[over:]...)
	}
	d.notify()
}

// playback fills out for the card (its callback); silence where Write
// has not kept up.
func (d *duplex) playback(out []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := copy(out, d.play)
	d.play = append(d.play[:0], d.play[n:]...)
	if n < len(out) {
		clear(out[n:])
		if n > 0 || len(out) > 0 {
			d.underruns++
		}
	}
	d.notify()
}

// Read waits for a whole captured frame.
func (d *duplex) Read(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return ErrClosed
		}
		if len(d.capt) >= len(frame) {
			copy(frame, d.capt)
			d.capt = append(d.capt[:0], d.capt[len(frame):]...)
			d.mu.Unlock()
			return nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Write queues a frame for playout, waiting while the queue is full.
func (d *duplex) Write(ctx context.Context, frame []int16) error {
	if err := audio.CheckFrame(frame); err != nil {
		return err
	}
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return ErrClosed
		}
		if len(d.play)+d.frameOut <= d.playMax {
			d.play = d.up.Process(d.play, frame)
			d.mu.Unlock()
			return nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// takePlay waits for queued playback and moves up to max samples of it
// (card rate) to dst: the alsa-utils driver's pull, where the card's
// callback would pull. After close it returns what is left, then
// ErrClosed; stop ends the wait with errStopped.
func (d *duplex) takePlay(ctx context.Context, stop <-chan struct{}, dst []int16, max int) ([]int16, error) {
	for {
		d.mu.Lock()
		if n := min(len(d.play), max); n > 0 {
			dst = append(dst, d.play[:n]...)
			d.play = append(d.play[:0], d.play[n:]...)
			d.notify()
			d.mu.Unlock()
			return dst, nil
		}
		if d.closed {
			d.mu.Unlock()
			return dst, ErrClosed
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return dst, errStopped
		case <-ctx.Done():
			return dst, ctx.Err()
		}
	}
}

// isClosed reports whether close was called.
func (d *duplex) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

func (d *duplex) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.notify()
	}
}

// Stats counts dropped capture (nobody read) and playout gaps (Write
// late).
func (d *duplex) Stats() (overruns, underruns int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.overruns, d.underruns
}

// latency is the delay from Write to the card's output: the playout
// queue at half full, the card's buffer and both filters.
func (d *duplex) latency(cfg Config) time.Duration {
	return time.Duration(cfg.PlayoutFrames)*audio.FrameTime/2 + time.Duration(cfg.Periods)*cfg.Period +
		d.down.Delay() + d.up.Delay()
}
