"""distillguard.stix"""
