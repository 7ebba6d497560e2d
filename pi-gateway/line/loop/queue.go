package loop

import (
	"sync"

	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
)

// Queue hands events to a channel without ever blocking the producer: the
// decoder runs under a lock and from timer callbacks, where waiting for a
// slow reader would stall the line.
type Queue struct {
	mu     sync.Mutex
	buf    []line.Event
	wake   chan struct{}
	out    chan line.Event
	closed chan struct{}
	once   sync.Once
}

// NewQueue starts the forwarding goroutine; Close stops it.
func NewQueue() *Queue {
	q := &Queue{
		wake:   make(chan struct{}, 1),
		out:    make(chan line.Event),
		closed: make(chan struct{}),
	}
	go q.forward()
	return q
}

// Push queues e. After Close it does nothing.
func (q *Queue) Push(e line.Event) {
	q.mu.Lock()
	q.buf = append(q.buf, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Events is the channel the events come out on; it is closed by Close.
func (q *Queue) Events() <-chan line.Event { return q.out }

// Close drops what is still queued and closes the channel.
func (q *Queue) Close() { q.once.Do(func() { close(q.closed) }) }

func (q *Queue) forward() {
	defer close(q.out)
	for {
		q.mu.Lock()
		var e line.Event
		have := len(q.buf) > 0
		if have {
			e = q.buf[0]
			q.buf[0] = line.Event{}
			q.buf = q.buf[1:]
		}
		q.mu.Unlock()
		if !have {
			select {
			case <-q.wake:
				continue
			case <-q.closed:
				return
			}
		}
		select {
		case q.out <- e:
		case <-q.closed:
			return
		}
	}
}
