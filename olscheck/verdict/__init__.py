"""From the battery's results to the verdict: the decision, remedies, transforms, the probe."""
