package bot

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	updates *prometheus.CounterVec
	errors  *prometheus.CounterVec
	retries *prometheus.CounterVec
	steps   *prometheus.CounterVec
	sent    prometheus.Counter
	dead    prometheus.Counter
	latency prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pensionbot_updates_total", Help: "Updates received, by outcome (queued, duplicate, full, ignored, …).",
		}, []string{"status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pensionbot_errors_total", Help: "Errors, by where they happened.",
		}, []string{"where"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pensionbot_telegram_retries_total", Help: "Bot API calls retried, by reason.",
		}, []string{"reason"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pensionbot_transitions_total", Help: "Committed transitions, by flow.",
		}, []string{"flow"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pensionbot_messages_sent_total", Help: "Messages sent.",
		}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pensionbot_dead_letters_total", Help: "Effects that kept failing and were kept as dead letters.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pensionbot_update_seconds",
			Help:    "Time to handle one update: queue, apply everything this process drained, send replies.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
	}
	for _, c := range []prometheus.Collector{m.updates, m.errors, m.retries, m.steps, m.sent, m.dead, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
