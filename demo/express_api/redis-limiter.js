// A fixed-window limiter on Redis: shared by every instance, survives deploys.
const { createClient } = require('redis');

const redis = createClient({ url: process.env.REDIS_URL });
redis.connect();

async function redisLimiter(req, res, next) {
  const key = `rl:search:${req.ip}`;
  const count = await redis.incr(key);
  if (count === 1) {
    await redis.expire(key, 60);
  }
  if (count > 30) {
    res.set('Retry-After', '60');
    return res.status(429).json({ error: 'Too many requests' });
  }
  next();
}

module.exports = { redisLimiter };
