package sipua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Back-off after a failed registration: 2 s doubling to 5 min, ±20 %.
const (
	backoffMin = 2 * time.Second
	backoffMax = 5 * time.Minute
	// minRefresh keeps a registrar granting seconds from making the UA
	// hammer it.
	minRefresh = time.Second
)

// rateLimiter lets at most n events through in any window: Twilio allows
// 5 REGISTER/s per address of record.
type rateLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	sent   []time.Time
	now    func() time.Time
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	return &rateLimiter{n: n, window: window, now: time.Now}
}

// reserve takes a slot and says how long to wait before using it.
func (r *rateLimiter) reserve() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	at := now
	if len(r.sent) >= r.n {
		at = r.sent[len(r.sent)-r.n].Add(r.window)
		if at.Before(now) {
			at = now
		}
	}
	r.sent = append(r.sent, at)
	if len(r.sent) > r.n {
		r.sent = r.sent[len(r.sent)-r.n:]
	}
	return at.Sub(now)
}

func (r *rateLimiter) wait(ctx context.Context) error {
	d := r.reserve()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before retry n (0-based), jittered.
func backoff(n int) time.Duration {
	d := backoffMin
	for range n {
		d *= 2
		if d >= backoffMax {
			d = backoffMax
			break
		}
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// regError is a registrar's refusal.
type regError struct {
	status int
	reason string
	retry  time.Duration // Retry-After, if given
}

func (e *regError) Error() string { return fmt.Sprintf("registrar answered %d %s", e.status, e.reason) }

// registration is one REGISTER dialogue's fixed parts: RFC 3261 §10.2
// wants one Call-ID and rising CSeq for a UA's registrations.
type registration struct {
	callID  string
	fromTag string
	seq     uint32
	limit   *rateLimiter
}

// registerLoop registers, refreshes at half the granted time, retries with
// back-off, and unregisters when ctx ends.
func (ua *UA) registerLoop(ctx context.Context) {
	r := &registration{callID: randomHex(16), fromTag: newTag(), seq: uint32(rand.IntN(10000)) + 1, limit: newRateLimiter(MaxRegisterPerSecond, time.Second)}
	failures := 0
	for {
		ua.setReg(RegState{Status: RegRegistering, Contact: ua.contact().Address.String()})
		granted, err := ua.register(ctx, r, ua.cfg.expires())
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		if err != nil {
			wait = backoff(failures)
			failures++
			st := RegState{Status: RegFailed, Retry: time.Now().Add(wait), Err: err}
			var re *regError
			if errors.As(err, &re) {
				st.LastStatus = re.status
				if re.retry > 0 {
					wait = max(wait, re.retry)
					st.Retry = time.Now().Add(wait)
				}
			}
			ua.log.Warn("registration failed", "err", err, "retry_in", wait.Round(time.Millisecond))
			ua.setReg(st)
		} else {
			failures = 0
			wait = max(granted/2, minRefresh)
			ua.log.Info("registered", "expires", granted, "refresh_in", wait)
			ua.setReg(RegState{Status: RegRegistered, Expires: time.Now().Add(granted), LastStatus: 200, Contact: ua.contact().Address.String()})
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	// Unregister on the way out, briefly: shutdown must not hang.
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if ua.Registration().Status == RegRegistered {
		if _, err := ua.register(uctx, r, 0); err != nil {
			ua.log.Warn("unregister failed", "err", err)
		} else {
			ua.log.Info("unregistered")
		}
	}
	ua.setReg(RegState{Status: RegStopped})
}

// register sends REGISTER (expires 0 unregisters) and returns the time
// granted. It answers a digest challenge, a 423 Interval Too Brief, and
// re-registers at once when the registrar saw another address (NAT).
func (ua *UA) register(ctx context.Context, r *registration, expires time.Duration) (time.Duration, error) {
	challenged, rewritten := false, false
	for range 5 {
		req := ua.registerRequest(r, expires)
		ua.auth.preempt(req)
		if err := r.limit.wait(ctx); err != nil {
			return 0, err
		}
		tx, err := ua.send(ctx, req)
		if err != nil {
			return 0, err
		}
		res, err := finalResponse(ctx, tx)
		tx.Terminate()
		if err != nil {
			return 0, fmt.Errorf("register: %w", err)
		}
		switch {
		case res.StatusCode == 401 || res.StatusCode == 407:
			if challenged || ua.cfg.Password == "" {
				ua.auth.forget()
				return 0, &regError{status: res.StatusCode, reason: res.Reason}
			}
			challenged = true
			if err := ua.auth.remember(res); err != nil {
				return 0, err
			}
			continue
		case res.StatusCode == 423:
			minExp := headerSeconds(res, "Min-Expires")
			if minExp <= expires || minExp > 24*time.Hour {
				return 0, &regError{status: 423, reason: res.Reason}
			}
			expires = minExp
			continue
		case res.StatusCode >= 200 && res.StatusCode < 300:
			if expires == 0 {
				return 0, nil
			}
			if !rewritten && ua.cfg.RewriteContact && ua.learnNAT(res) {
				rewritten = true
				continue
			}
			return grantedExpiry(res, ua.contact().Address, expires), nil
		default:
			return 0, &regError{status: res.StatusCode, reason: res.Reason, retry: headerSeconds(res, "Retry-After")}
		}
	}
	return 0, fmt.Errorf("register: too many rounds")
}

func (ua *UA) registerRequest(r *registration, expires time.Duration) *sip.Request {
	reg := *ua.cfg.registrar.Clone()
	reg.User = ""
	req := sip.NewRequest(sip.REGISTER, reg)
	aor := ua.aor()
	from := &sip.FromHeader{DisplayName: ua.cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: ua.cfg.DisplayName, Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.seq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.seq, MethodName: sip.REGISTER})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(ua.contact())
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	ua.prepare(req, true)
	return req
}

// learnNAT reads Via received/rport of a response and, when they differ
// from the Contact, adopts them. It reports whether the Contact changed.
func (ua *UA) learnNAT(res *sip.Response) bool {
	seen, ok := viaReceived(res)
	if !ok {
		return false
	}
	ua.mu.Lock()
	defer ua.mu.Unlock()
	if seen == ua.contactIP {
		return false
	}
	ua.log.Info("registrar sees another address: rewriting Contact", "was", ua.contactIP, "now", seen)
	ua.contactIP = seen
	return true
}

// viaReceived is the address the far end saw: Via received and rport.
func viaReceived(res *sip.Response) (netip.AddrPort, bool) {
	via := res.Via()
	if via == nil {
		return netip.AddrPort{}, false
	}
	host, okH := via.Params.Get("received")
	port, okP := via.Params.Get("rport")
	if !okH && !okP {
		return netip.AddrPort{}, false
	}
	if host == "" {
		host = via.Host
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.AddrPort{}, false
	}
	p := via.Port
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return netip.AddrPort{}, false
		}
		p = int(n)
	}
	if p <= 0 || p > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), true
}

// grantedExpiry reads the binding time a 2xx to REGISTER grants our
// contact: its Contact's expires parameter, else Expires, else what was
// asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.Host != ours.Host || c.Address.Port != ours.Port || c.Address.User != ours.User {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if d := headerSeconds(res, "Expires"); d > 0 {
		return d
	}
	return asked
}

// headerSeconds reads a header holding seconds (Expires, Min-Expires,
// Retry-After "120 (comment)"); 0 when absent or bad.
func headerSeconds(res *sip.Response, name string) time.Duration {
	h := res.GetHeader(name)
	if h == nil {
		return 0
	}
	v := strings.TrimSpace(h.Value())
	if i := strings.IndexAny(v, " ;("); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}
