package protocols

import "time"

// Status is what an adapter tells `omniagent status` beyond its last cycle.
type Status struct {
	// Cycle names what one poll is for this protocol ("hello", "update check", "heartbeat",
	// "check-in"): the scheduler's next run is shown as "next <Cycle>". Empty when Schedule
	// already says everything (GLPI).
	Cycle string
	// Schedule is when each sub-task runs next ("contact/inventory", "deploy poll").
	Schedule map[string]time.Time
	// Session is the state of the long-lived connection, if any ("connected",
	// "disconnected: ...").
	Session string
}

// StatusReporter is implemented by adapters with sub-schedules or a long-lived connection.
// The scheduler calls it after each cycle, from the cycle's goroutine; Session may change in
// the Session goroutine and must be read safely.
type StatusReporter interface {
	Status() Status
}
