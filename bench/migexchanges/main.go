// Command migexchanges declares the MIG scheduler's two exchanges (toagents, toschedulers:
// direct, durable, as the scheduler and migfake declare them) on a RabbitMQ broker, so that the
// idle benchmark's MIG server holds a relay session on a broker no MIG scheduler or test has
// used yet (bench/rows/agent.sh). Usage: migexchanges amqp://guest:guest@127.0.0.1:5672/
package main

import (
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/omniagent/omniagent/protocols/mig/migfake"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: migexchanges AMQP-URL")
		os.Exit(2)
	}
	if err := declare(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "migexchanges:", err)
		os.Exit(1)
	}
}

func declare(url string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	for _, ex := range []string{migfake.ExchangeToAgents, migfake.ExchangeToSchedulers} {
		if err := ch.ExchangeDeclare(ex, "direct", true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", ex, err)
		}
	}
	return nil
}
