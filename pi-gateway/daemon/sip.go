package daemon

import (
	"context"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// Call is one SIP call as the daemon uses it; *sipua.Call is one.
type Call interface {
	ID() string
	Direction() sipua.CallDirection
	Remote() sipua.Party
	State() sipua.CallState
	Events() <-chan sipua.CallEvent
	Answer(ctx context.Context) error
	Reject(ctx context.Context, status int) error
	Hangup(ctx context.Context) error
	SendDigit(ctx context.Context, d byte) error
	Audio() sipua.Audio
	Stats() media.Stats
}

// UA is the SIP user agent as the daemon uses it; FromSIPUA adapts a
// *sipua.UA.
type UA interface {
	Run(ctx context.Context) error
	Ready() <-chan struct{}
	Dial(ctx context.Context, number string) (Call, error)
	// NextIncoming waits for an incoming call; false once ctx ends.
	NextIncoming(ctx context.Context) (Call, bool)
	Registration() sipua.RegState
}

// FromSIPUA adapts ua to UA.
func FromSIPUA(ua *sipua.UA) UA { return sipUA{ua} }

type sipUA struct{ ua *sipua.UA }

func (s sipUA) Run(ctx context.Context) error { return s.ua.Run(ctx) }
func (s sipUA) Ready() <-chan struct{}        { return s.ua.Ready() }
func (s sipUA) Registration() sipua.RegState  { return s.ua.Registration() }

func (s sipUA) Dial(ctx context.Context, number string) (Call, error) {
	c, err := s.ua.Dial(ctx, number)
	if err != nil {
		// A nil *sipua.Call in a Call interface would not be nil.
		return nil, err
	}
	return c, nil
}

func (s sipUA) NextIncoming(ctx context.Context) (Call, bool) {
	select {
	case c, ok := <-s.ua.Incoming():
		if !ok {
			return nil, false
		}
		return c, true
	case <-ctx.Done():
		return nil, false
	}
}
