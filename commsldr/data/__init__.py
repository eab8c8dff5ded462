"""commsldr.data"""
