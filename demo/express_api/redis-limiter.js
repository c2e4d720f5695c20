// A fixed-window limiter on Redis: shared by every instance, survives deploys,
// logs whom it limits, and lets requests through (with a log line) if Redis
// is unreachable.
const { createClient } = require('redis');

const redis = createClient({ url: process.env.REDIS_URL });
redis.connect();

async function redisLimiter(req, res, next) {
  const key = `rl:search:${req.ip}`;
  let count;
  try {
    // One MULTI: the counter and its window's expiry (set once, `NX`) land together.
    [count] = await redis.multi().incr(key).expire(key, 60, 'NX').exec();
  } catch (err) {
    console.error('rate limiter store unavailable, letting the request through', err);
    return next();
  }
  if (count > 30) {
    console.warn('rate limited', { key, count });
    res.set('Retry-After', '60');
    return res.status(429).json({ error: 'Too many requests' });
  }
  next();
}

module.exports = { redisLimiter };
