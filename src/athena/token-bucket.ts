import { TokenBucket } from "limiter";

/**
 * A token bucket that refills continuously, as AWS's own quotas do, and
 * starts full: a burst of one second's worth, then the steady rate.
 */
export function fullBucket(perSecond: number): TokenBucket {
  const bucket = new TokenBucket({ bucketSize: Math.max(1, perSecond), tokensPerInterval: perSecond, interval: "second" });
  bucket.content = bucket.bucketSize;
  return bucket;
}
