// Package alsa is the audio device for the USB sound card wired to the
// line's hybrid: full duplex through miniaudio (github.com/gen2brain/malgo,
// which loads libasound at run time), at the card's own rate with our own
// polyphase resampling to and from 8 kHz. The cgo part builds only with
// the "alsa" build tag (go build -tags alsa); without it Open says so. The
// buffering and resampling here build everywhere and are tested without a
// card.
package alsa

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/resample"
)

// Config chooses the card and its buffering.
type Config struct {
	// Device is part of the card's name as ALSA lists it (e.g. "USB");
	// "" uses the default device.
	Device string
	// Rate is the card's sample rate: 48000 (default), 44100 or 8000.
	Rate int
	// Period is the card's period (default 10 ms) and Periods how many
	// make its buffer (default 3).
	Period  time.Duration
	Periods int
	// PlayoutFrames is how many 20 ms frames Write may queue before it
	// blocks (default 2).
	PlayoutFrames int
	// Null uses miniaudio's null backend instead of ALSA (tests, CI).
	Null bool
}

func (c *Config) defaults() error {
	if c.Rate == 0 {
		c.Rate = 48000
	}
	if c.Period <= 0 {
		c.Period = 10 * time.Millisecond
	}
	if c.Periods <= 0 {
		c.Periods = 3
	}
	if c.PlayoutFrames <= 0 {
		c.PlayoutFrames = 2
	}
	if c.Rate != 8000 && c.Rate != 44100 && c.Rate != 48000 && c.Rate != 16000 && c.Rate != 32000 {
		return fmt.Errorf("alsa: rate %d: want 8000, 16000, 32000, 44100 or 48000", c.Rate)
	}
	return nil
}

// ErrClosed is returned by Read and Write after Close.
var ErrClosed = errors.New("alsa: device closed")

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
