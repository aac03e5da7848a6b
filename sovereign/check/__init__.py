"""Running the policy pack over renders or manifests, and the check's report model and inventory."""
