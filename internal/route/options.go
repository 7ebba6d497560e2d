package route

// Option configures a Router.
type Option func(*Router)

// WithDirectory lets the router reach exchanges that are not direct peers
// (see Directory). A nil directory is the same as none.
func WithDirectory(d Directory) Option {
	return func(r *Router) { r.directory = d }
}

// WithMaxHops sets the most exchange-to-exchange links a call may cross
// (default DefaultMaxHops); values below 1 keep the default.
func WithMaxHops(n int) Option {
	return func(r *Router) {
		if n >= 1 {
			r.maxHops = n
		}
	}
}
