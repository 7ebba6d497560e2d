package call

import (
	"strconv"

	"github.com/kurodenwa/kurodenwa/internal/route"
)

// queueable reports whether c's caller may wait for its target: a single
// phone that queues its callers, and not the caller's own phone. A
// transferee whose transferer still waits does not queue: the transferer
// gets its call back instead.
func (e *Engine) queueable(c *call) bool {
	d := c.route
	return !c.referrer.live() && d.Kind == route.Local && len(d.Endpoints) == 1 && c.caller.live() &&
		e.cfg.Phones[d.Endpoints[0]].Queue && d.Endpoints[0] != c.caller.endpoint
}

// enqueue makes the caller wait for a busy phone: answered (only now, as it
// must wait), in a holding bridge with music on hold, first in first out.
// front puts back a caller whose turn came; retry waits a moment before
// ringing a phone that answered busy although it was in no call (off hook).
func (e *Engine) enqueue(c *call, front, retry bool) {
	ep := c.route.Endpoints[0]
	q := e.queues[ep]
	switch {
	case len(q) >= e.cfg.Queue.MaxLength:
		e.refuse(c, causeBusy, "busy", ResultBusy, "busy, and the queue is full")
		return
	case c.queued && c.timers[timerQueue] == "":
		e.refuse(c, causeBusy, "busy", ResultQueueTimeout, "waited the longest time allowed")
		return
	}
	e.cancelTimer(c, timerRing)
	e.stopPlayback(c)
	caller := c.caller
	e.answer(c, caller)
	e.addToBridge(c, caller, e.holding(c))
	if front {
		q = append(q, nil)
		copy(q[1:], q)
		q[0] = c
	} else {
		q = append(q, c)
	}
	if retry {
		e.startTimer(c, timerRetry, e.cfg.Queue.Retry)
	}
	e.queues[ep] = q
	c.state, c.queuedFor = StateQueued, ep
	if !c.queued {
		c.queued = true
		e.startTimer(c, timerQueue, e.cfg.Queue.MaxWait)
		if ann := e.cfg.Queue.PositionAnnouncement; ann != "" {
			e.play(c, caller, []string{"sound:" + ann, "number:" + strconv.Itoa(len(q))}, false)
		}
	}
	if e.busy[ep] == 0 {
		e.pumps = append(e.pumps, ep)
	}
}

// unqueue takes c out of whatever queue it is in.
func (e *Engine) unqueue(c *call) {
	if c.queuedFor == "" {
		return
	}
	ep := c.queuedFor
	c.queuedFor = ""
	q := e.queues[ep]
	for i, w := range q {
		if w == c {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(e.queues, ep)
		return
	}
	e.queues[ep] = q
}

// pump rings a free phone for the first caller in its queue.
func (e *Engine) pump(ep string) {
	q := e.queues[ep]
	if e.busy[ep] > 0 || len(q) == 0 {
		return
	}
	c := q[0]
	if c.timers[timerRetry] != "" {
		return
	}
	e.unqueue(c)
	c.state, c.outcome = StateRinging, outcome{}
	e.dialEndpoint(c, ep, ringTimeout(c.route, e.cfg.RingTimeout))
	e.startTimer(c, timerRing, ringTimeout(c.route, e.cfg.RingTimeout))
}
