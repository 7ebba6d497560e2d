package sipua

import (
	"sync"
	"time"
)

// eventsKeptFor is how long a call's undelivered events wait for a
// reader once the call has ended.
const eventsKeptFor = time.Minute

// eventQueue delivers a call's events in order without loss and without
// ever blocking the call's state machine: a slow reader only lets the
// queue grow (a call makes a handful of events). The channel closes after
// EventEnded has been read, or when nobody reads for keep after it was
// queued, so an unread queue does not keep its goroutine.
type eventQueue struct {
	mu     sync.Mutex
	buf    []CallEvent
	closed bool
	wake   chan struct{}
	out    chan CallEvent
	keep   time.Duration
	gone   chan struct{} // closed when pump returns
}

func newEventQueue(keep time.Duration) *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), out: make(chan CallEvent), keep: keep, gone: make(chan struct{})}
	go q.pump()
	return q
}

// push queues e; after EventEnded it is dropped.
func (q *eventQueue) push(e CallEvent) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.buf = append(q.buf, e)
	if e.Kind == EventEnded {
		q.closed = true
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// done is closed when delivery has finished or been given up.
func (q *eventQueue) done() <-chan struct{} { return q.gone }

func (q *eventQueue) pump() {
	defer close(q.gone)
	defer close(q.out)
	var giveUp <-chan time.Time
	for {
		q.mu.Lock()
		if q.closed && giveUp == nil {
			giveUp = time.After(q.keep)
		}
		if len(q.buf) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				return
			}
			<-q.wake // the call is alive: its end will come
			continue
		}
		e := q.buf[0]
		q.mu.Unlock()
		select {
		case q.out <- e:
			q.mu.Lock()
			q.buf = q.buf[1:]
			q.mu.Unlock()
		case <-q.wake:
			// Something was queued (perhaps the end): look again.
		case <-giveUp:
			return
		}
	}
}
