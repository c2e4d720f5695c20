// Orders API with a hand-rolled rate limiter middleware.
const express = require('express');
const { redisLimiter } = require('./redis-limiter');

function rateLimit({ windowMs, max }) {
  const clients = new Map();
  return (req, res, next) => {
    const now = Date.now();
    const entry = clients.get(req.ip) || { count: 0, start: now };
    if (now - entry.start > windowMs) {
      entry.count = 0;
      entry.start = now;
    }
    entry.count += 1;
    clients.set(req.ip, entry);
    if (entry.count > max) {
      return res.status(429).json({ error: 'Too many requests' });
    }
    next();
  };
}

const app = express();
app.set('trust proxy', 1); // one load balancer in front: req.ip is the client
app.use(express.json());
app.use('/api', rateLimit({ windowMs: 60_000, max: 100 }));
app.use('/search', redisLimiter);

app.get('/api/orders', (req, res) => res.json([]));
app.get('/search', (req, res) => res.json({ results: [] }));
app.post('/signup', (req, res) => res.status(201).json({ ok: true }));

app.listen(3000);
