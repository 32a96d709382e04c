package protocols

import "errors"

// jobError marks the failure of a job, package or deploy the server asked for, as opposed to
// the failure of an exchange with the server. The scheduler counts a cycle whose only errors
// are job failures as "ok, N jobs failed": the server is reachable, so there is no back-off,
// and `--oneshot` exits 3 rather than 1 (monitoring must not alarm on a package's own failure).
type jobError struct{ err error }

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

// JobFailure marks err as the failure of one job (nil stays nil). Wrap it further with %w or
// errors.Join as usual; SplitJobFailures still finds it.
func JobFailure(err error) error {
	if err == nil {
		return nil
	}
	return &jobError{err: err}
}

// SplitJobFailures tells a cycle error made only of job failures from one where an exchange
// failed. jobsOnly is true when err is non-nil and every branch of its wrap tree ends in a
// JobFailure; jobs counts the job failures found either way.
func SplitJobFailures(err error) (jobs int, jobsOnly bool) {
	if err == nil {
		return 0, false
	}
	other := 0
	var walk func(error)
	walk = func(e error) {
		if _, ok := e.(*jobError); ok {
			jobs++
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				if c != nil {
					walk(c)
				}
			}
		default:
			if next := errors.Unwrap(e); next != nil {
				walk(next)
			} else {
				other++
			}
		}
	}
	walk(err)
	return jobs, other == 0 && jobs > 0
}
