"""Campaigns (issue 19): personalized mass sends that a person approves, throttled per instance,
held in quiet hours, never sent twice, and never to a contact who opted out. Pure rules only:
the audience and its exclusions, the message and its variables, the throttle, quiet hours,
automatic pauses, opt-out detection and the checks on a model's rewrite."""
